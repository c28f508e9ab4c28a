// The spectral regulariser's per-step work outside the eigensolver (F21's spectral loss in the
// training loop): the network's canonical form and the way back for gradients
// (spectral_canonical, spectral_canonical_backward), and the gradient of the eigenvalues with
// respect to the weights (spectral_gradient). The Java reference is
// dev.cleave.train.SpectralRegularizer (Canonical, addGradient); these do the same arithmetic in
// the same order (double accumulations, float results), compiled without FMA contraction
// (native/CMakeLists.txt) so that every result matches it bit for bit.
//
// Layout: widths[0..layers] (input first); the weights of every layer packed one after another,
// layer l (widths[l+1] x widths[l], row-major, as in PyTorch) at sum_{m<l} widths[m+1]*widths[m];
// biases packed the same way (layer l at sum_{m<l} widths[m+1]); the rescaling factors of hidden
// layer l (l < layers - 1) at the offset of its biases.
//
// Threads: rows (or column ranges) are split over the team; every output entry is written by one
// thread and every sum runs in a fixed order, so no result depends on the thread count.
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>
#include "cleave_cpu.h"
#include "common.h"
#include "spectral_internal.h"

namespace {
struct Layout {
  std::vector<int64_t> w, b;  // offsets per layer, and the totals at [layers]
  std::vector<int64_t> node;  // node offsets per neuron layer, the total at [layers + 1]
};

int layout(const char* op, const int32_t* widths, int layers, Layout* out) {
  CLEAVE_REQUIRE(op, widths != nullptr, "widths must not be null");
  CLEAVE_REQUIRE(op, layers >= 1 && layers <= 4096, "layers must be in [1, 4096], got %d", layers);
  out->w.assign(layers + 1, 0);
  out->b.assign(layers + 1, 0);
  out->node.assign(layers + 2, 0);
  for (int l = 0; l <= layers; ++l) {
    CLEAVE_REQUIRE(op, widths[l] >= 1, "width %d is %d; every layer needs at least one neuron", l, widths[l]);
    out->node[l + 1] = out->node[l] + widths[l];
  }
  for (int l = 0; l < layers; ++l) {
    out->w[l + 1] = out->w[l] + (int64_t)widths[l + 1] * widths[l];
    out->b[l + 1] = out->b[l] + widths[l + 1];
  }
  return 0;
}

inline double norm2(const float* row, float bias, int in) {
  double s = (double)bias * bias;
  for (int j = 0; j < in; ++j) s += (double)row[j] * row[j];
  return s;
}

// The row sums below are sums in a fixed order (j ascending, one double accumulator per row), as
// the Java reference sums them; one such sum is bound by the latency of its additions. The _block
// forms run kRows rows' sums side by side (each still in its own order, so the results are the
// same bits) to overlap those latencies.
constexpr int kRows = 4;

// out[r] = norm2(u[r], bias[r], in) for R rows.
template <int R>
inline void norm2_block(const float* const* u, const float* bias, int in, double* out) {
  double s[R];
  for (int r = 0; r < R; ++r) s[r] = (double)bias[r] * bias[r];
  for (int j = 0; j < in; ++j)
    for (int r = 0; r < R; ++r) s[r] += (double)u[r][j] * u[r][j];
  for (int r = 0; r < R; ++r) out[r] = s[r];
}

// out[r] = init[r] + sum_j u[r][j] * g[r][j] (in j order) for R rows.
template <int R>
inline void dot_block(const float* const* u, float* const* g, const double* init, int in, double* out) {
  double s[R];
  for (int r = 0; r < R; ++r) s[r] = init[r];
  for (int j = 0; j < in; ++j)
    for (int r = 0; r < R; ++r) s[r] += (double)u[r][j] * g[r][j];
  for (int r = 0; r < R; ++r) out[r] = s[r];
}

// out[r] = sum_j |a[r][j]| (in j order) for R rows.
template <int R>
inline void abs_sum_block(const float* const* a, int in, double* out) {
  double s[R];
  for (int r = 0; r < R; ++r) s[r] = 0;
  for (int j = 0; j < in; ++j)
    for (int r = 0; r < R; ++r) s[r] += std::fabs(a[r][j]);
  for (int r = 0; r < R; ++r) out[r] = s[r];
}

// As the _block forms for cnt <= kRows rows (the last block of a layer may be short).
inline void norm2_rows(const float* const* u, const float* bias, int in, int cnt, double* out) {
  if (cnt == kRows) return norm2_block<kRows>(u, bias, in, out);
  for (int r = 0; r < cnt; ++r) out[r] = norm2(u[r], bias[r], in);
}
inline void dot_rows(const float* const* u, float* const* g, const double* init, int in, int cnt, double* out) {
  if (cnt == kRows) return dot_block<kRows>(u, g, init, in, out);
  for (int r = 0; r < cnt; ++r) dot_block<1>(u + r, g + r, init + r, in, out + r);
}
inline void abs_sum_rows(const float* const* a, int in, int cnt, double* out) {
  if (cnt == kRows) return abs_sum_block<kRows>(a, in, out);
  for (int r = 0; r < cnt; ++r) abs_sum_block<1>(a + r, in, out + r);
}

// Row i of hidden step l's input: w0[l] with the previous step's compensation (divided by its
// factor per column, a dead unit's column left alone), rounded to float as the reference does.
// (A dead column is divided by 1, which gives back its float exactly: no branch in the loop.)
inline const float* step_row(const float* w0, const double* prev, int in, int i, float* scratch) {
  const float* r = w0 + (int64_t)i * in;
  if (!prev) return r;
  for (int j = 0; j < in; ++j) scratch[j] = (float)(r[j] / (prev[j] != 0 ? prev[j] : 1.0));
  return scratch;
}

int team_rows(int64_t work) { return work > cleave::kParallelMin ? cleave::team(cleave::threads()) : 1; }
}  // namespace

extern "C" int cleave_spectral_canonical(const int32_t* widths, int layers, const float* w, const float* b, float* cw,
                                         float* cb, double* factors) {
  const char* op = "spectral_canonical";
  Layout L;
  if (const int status = layout(op, widths, layers, &L)) return status;
  CLEAVE_REQUIRE(op, w && b && cw && cb && (factors || layers == 1), "w, b, cw, cb and factors must not be null");
  try {
    for (int l = 0; l < layers; ++l) {
      const int in = widths[l], out = widths[l + 1];
      const float* w0 = w + L.w[l];
      const float* b0 = b + L.b[l];
      const double* prev = l > 0 ? factors + L.b[l - 1] : nullptr;
      const bool hidden = l + 1 < layers;
      double* f = hidden ? factors + L.b[l] : nullptr;
      const int team = team_rows((int64_t)in * out);
      const int blocks = (out + kRows - 1) / kRows;
#pragma omp parallel num_threads(team) if (team > 1)
      {
        std::vector<float> scratch((size_t)kRows * in);
#pragma omp for schedule(static)
        for (int ib = 0; ib < blocks; ++ib) {
          const int i0 = ib * kRows, cnt = std::min(kRows, out - i0);
          const float* rows[kRows];
          double n2[kRows];
          for (int r = 0; r < cnt; ++r) rows[r] = step_row(w0, prev, in, i0 + r, scratch.data() + (size_t)r * in);
          norm2_rows(rows, b0 + i0, in, cnt, n2);
          for (int r = 0; r < cnt; ++r) {
            const int i = i0 + r;
            const float* u = rows[r];
            const double n = std::sqrt(n2[r]);
            float* dst = cw + L.w[l] + (int64_t)i * in;
            if (n == 0) {  // a dead unit (or logit row) stays as it is
              std::memcpy(dst, u, sizeof(float) * in);
              if (hidden) f[i] = 0;
              cb[L.b[l] + i] = b0[i];
              continue;
            }
            const double s = std::sqrt(2.0) / n;
            for (int j = 0; j < in; ++j) dst[j] = (float)(u[j] * s);
            if (hidden) {
              f[i] = s;
              cb[L.b[l] + i] = (float)(b0[i] * s);
            } else {
              cb[L.b[l] + i] = b0[i];  // the logit biases are not part of the graph: kept as they are
            }
          }
        }
      }
    }
  } catch (const std::bad_alloc&) {
    return cleave::set_error(op, __FILE__, __LINE__, "out of memory for a row buffer");
  }
  return cleave::ok();
}

extern "C" int cleave_spectral_canonical_backward(const int32_t* widths, int layers, const float* w, const float* b,
                                                  const double* factors, float* gw, float* gb) {
  const char* op = "spectral_canonical_backward";
  Layout L;
  if (const int status = layout(op, widths, layers, &L)) return status;
  CLEAVE_REQUIRE(op, w && b && gw && gb && (factors || layers == 1), "w, b, factors, gw and gb must not be null");
  try {
    // The logit rows' scaling, r = (w_o, b_o) as the last hidden step left it:
    // g = (sqrt 2 / |r|) (g' - r^ (r^ . g')).
    {
      const int l = layers - 1, in = widths[l], out = widths[l + 1];
      const double* prev = l > 0 ? factors + L.b[l - 1] : nullptr;
      const int team = team_rows((int64_t)in * out);
      const int blocks = (out + kRows - 1) / kRows;
#pragma omp parallel num_threads(team) if (team > 1)
      {
        std::vector<float> scratch((size_t)kRows * in);
#pragma omp for schedule(static)
        for (int ob = 0; ob < blocks; ++ob) {
          const int o0 = ob * kRows, cnt = std::min(kRows, out - o0);
          const float* rows[kRows];
          float* grows[kRows];
          double n2[kRows], init[kRows], dot[kRows];
          for (int q = 0; q < cnt; ++q) {
            rows[q] = step_row(w + L.w[l], prev, in, o0 + q, scratch.data() + (size_t)q * in);
            grows[q] = gw + L.w[l] + (int64_t)(o0 + q) * in;
            init[q] = (double)b[L.b[l] + o0 + q] * gb[L.b[l] + o0 + q];
          }
          norm2_rows(rows, b + L.b[l] + o0, in, cnt, n2);
          dot_rows(rows, grows, init, in, cnt, dot);
          for (int q = 0; q < cnt; ++q) {
            if (n2[q] == 0) continue;
            const float* r = rows[q];
            const float bo = b[L.b[l] + o0 + q];
            float* g = grows[q];
            float& gbo = gb[L.b[l] + o0 + q];
            const double radial = dot[q] / n2[q], s = std::sqrt(2 / n2[q]);
            for (int j = 0; j < in; ++j) g[j] = (float)(s * (g[j] - radial * r[j]));
            gbo = (float)(s * (gbo - radial * bo));
          }
        }
      }
    }
    // The hidden steps, last to first. Step l, unit i: u its incoming weights and bias as the
    // step saw them, v its outgoing weights (as given), t its factor:
    // g_u = t (g'_u - u^ (u^ . g'_u)) + u^ (v . g'_v) / (t |u|), g_v = g'_v / t.
    for (int l = layers - 2; l >= 0; --l) {
      const int in = widths[l], out = widths[l + 1], after = widths[l + 2];
      const double* f = factors + L.b[l];
      const double* prev = l > 0 ? factors + L.b[l - 1] : nullptr;
      const float* v = w + L.w[l + 1];
      float* gnext = gw + L.w[l + 1];
      std::vector<double> vg(out, 0.0), inv(out);
      for (int i = 0; i < out; ++i) inv[i] = f[i] == 0 ? 1.0 : 1.0 / f[i];
      const int team = team_rows((int64_t)out * (after + in));
      const int blocks = (out + kRows - 1) / kRows;
#pragma omp parallel num_threads(team) if (team > 1)
      {
        // v . g'_v per unit, then g'_v / t: each thread a range of units (columns), rows in order.
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int i0 = (int)((int64_t)out * t / nt), i1 = (int)((int64_t)out * (t + 1) / nt);
        for (int o = 0; o < after; ++o) {
          const float* vr = v + (int64_t)o * out;
          float* gr = gnext + (int64_t)o * out;
          for (int i = i0; i < i1; ++i) {
            vg[i] += (double)vr[i] * gr[i];
            gr[i] = (float)(gr[i] * inv[i]);
          }
        }
#pragma omp barrier
        std::vector<float> scratch((size_t)kRows * in);
#pragma omp for schedule(static)
        for (int ib = 0; ib < blocks; ++ib) {
          const int u0 = ib * kRows, cnt = std::min(kRows, out - u0);
          const float* rows[kRows];
          float* grows[kRows];
          double n2[kRows], init[kRows], ug[kRows];
          for (int q = 0; q < cnt; ++q) {
            rows[q] = step_row(w + L.w[l], prev, in, u0 + q, scratch.data() + (size_t)q * in);
            grows[q] = gw + L.w[l] + (int64_t)(u0 + q) * in;
            init[q] = (double)b[L.b[l] + u0 + q] * gb[L.b[l] + u0 + q];
          }
          norm2_rows(rows, b + L.b[l] + u0, in, cnt, n2);
          dot_rows(rows, grows, init, in, cnt, ug);
          for (int q = 0; q < cnt; ++q) {
            const int i = u0 + q;
            if (f[i] == 0) continue;
            const float* u = rows[q];
            const float ub = b[L.b[l] + i];
            float* g = grows[q];
            float& gbi = gb[L.b[l] + i];
            const double radial = ug[q] / n2[q], back = vg[i] / (f[i] * n2[q]);
            for (int j = 0; j < in; ++j) g[j] = (float)(f[i] * (g[j] - radial * u[j]) + back * u[j]);
            gbi = (float)(f[i] * (gbi - radial * ub) + back * ub);
          }
        }
      }
    }
  } catch (const std::bad_alloc&) {
    return cleave::set_error(op, __FILE__, __LINE__, "out of memory for the scratch arrays");
  }
  return cleave::ok();
}

extern "C" int cleave_spectral_gradient(const int32_t* widths, int layers, const float* w, int k, const double* mu,
                                        const double* vectors, float lambda, float* grad) {
  const char* op = "spectral_gradient";
  Layout L;
  if (const int status = layout(op, widths, layers, &L)) return status;
  CLEAVE_REQUIRE(op, w && grad && (k == 0 || (mu && vectors)), "w, mu, vectors and grad must not be null");
  CLEAVE_REQUIRE(op, k >= 0 && k <= 1024, "k must be in [0, 1024], got %d", k);
  const int64_t n = L.node[layers + 1];
  try {
    // Degrees: a node's sum of |w| over its edges, in the reference's order (as the output of
    // layer l - 1: its row sum; then as an input of layer l: its column, row by row).
    std::vector<double> d(n, 0.0);
    for (int l = 0; l < layers; ++l) {
      const int in = widths[l], out = widths[l + 1];
      const float* wl = w + L.w[l];
      double* dout = d.data() + L.node[l + 1];
      double* din = d.data() + L.node[l];
      const int team = team_rows((int64_t)in * out);
#pragma omp parallel num_threads(team) if (team > 1)
      {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int blocks = (out + kRows - 1) / kRows;
#pragma omp for schedule(static) nowait
        for (int ib = 0; ib < blocks; ++ib) {
          const int i0 = ib * kRows, cnt = std::min(kRows, out - i0);
          const float* rows[kRows];
          double row[kRows];
          for (int q = 0; q < cnt; ++q) rows[q] = wl + (int64_t)(i0 + q) * in;
          abs_sum_rows(rows, in, cnt, row);
          for (int q = 0; q < cnt; ++q) dout[i0 + q] += row[q];
        }
        const int j0 = (int)((int64_t)in * t / nt), j1 = (int)((int64_t)in * (t + 1) / nt);
        for (int i = 0; i < out; ++i) {
          const float* r = wl + (int64_t)i * in;
          for (int j = j0; j < j1; ++j) din[j] += std::fabs(r[j]);
        }
      }
    }
    // u_p = v_p / sqrt(d), r = sum_p mu_p v_p^2 / d (nodes of degree 0: none).
    std::vector<double> u((size_t)k * n, 0.0), r(n, 0.0);
    for (int64_t a = 0; a < n; ++a) {
      if (d[a] > 0) {
        const double inv = 1 / std::sqrt(d[a]);
        for (int p = 0; p < k; ++p) {
          const double va = vectors[(int64_t)p * n + a];
          u[(size_t)p * n + a] = va * inv;
          r[a] += mu[p] * va * va / d[a];
        }
      }
    }
    const double scale = -(double)lambda / (k > 0 ? k : 1);
    for (int l = 0; l < layers && k > 0; ++l) {
      const int in = widths[l], out = widths[l + 1];
      const int64_t src = L.node[l], dst = L.node[l + 1];
      const float* wl = w + L.w[l];
      float* gl = grad + L.w[l];
      const int team = team_rows((int64_t)in * out);
#pragma omp parallel num_threads(team) if (team > 1)
      {
        std::vector<double> dmu(in);
#pragma omp for schedule(static)
        for (int i = 0; i < out; ++i) {
          const int64_t a = dst + i;
          for (int j = 0; j < in; ++j) dmu[j] = -(r[a] + r[src + j]);
          for (int p = 0; p < k; ++p) {
            const double ua = 2 * u[(size_t)p * n + a];
            const double* up = u.data() + (size_t)p * n + src;
            for (int j = 0; j < in; ++j) dmu[j] += ua * up[j];
          }
          const float* wr = wl + (int64_t)i * in;
          float* gr = gl + (int64_t)i * in;
          for (int j = 0; j < in; ++j) {
            const float sign = (wr[j] > 0.0f) - (wr[j] < 0.0f);  // |w| has no derivative at 0: 0 keeps pruned weights put
            gr[j] += (float)(scale * sign * dmu[j]);
          }
        }
      }
    }
  } catch (const std::bad_alloc&) {
    return cleave::set_error(op, __FILE__, __LINE__, "out of memory for the degree and eigenvector arrays");
  }
  return cleave::ok();
}

// ---- spectral_reg_graph: the regulariser's network graph refilled into an existing spectral_op ----
// The op was built (dev.cleave.cluster.GraphOperator.of + NativeOperator) from a network graph of
// these widths with every node kept and every layer dense: piece 2l is |w_l| (rows: layer l + 1,
// cols: layer l) and piece 2l + 1 its mirror (the transpose). Writes |w| into both, the degrees
// (in dev.cleave.graph.NetworkGraph.fromWeights' order of summation) and the scale d^-1/2 into
// degree[], scale[] (operator order) and the op; |w| also into abs (packed like w) for the
// caller's description of the op. counts[0] = the number of weights that are not finite: when
// it is not 0 the op's contents are unspecified and the caller builds the graph the general way;
// counts[1 + l] = the weights of layer l that are 0 (they stay in the dense pieces as 0 edges, as
// the general path keeps them in a layer it stores dense; the caller decides whether it would:
// nodes of degree 0 are dropped there, zero-rich layers stored sparse).
extern "C" int cleave_spectral_reg_graph(cleave_spectral_op* op, const int32_t* widths, int layers, const float* w,
                                         const int64_t* rows_at, float* abs, double* degree, double* scale,
                                         int64_t* counts) {
  const char* name = "spectral_reg_graph";
  Layout L;
  if (const int status = layout(name, widths, layers, &L)) return status;
  CLEAVE_REQUIRE(name, op && w && rows_at && abs && degree && scale && counts,
                 "op, w, rows_at, abs, degree, scale and counts must not be null");
  const int64_t n = L.node[layers + 1];
  CLEAVE_REQUIRE(name, op->n == n && (int64_t)op->pieces.size() == 2 * (int64_t)layers,
                 "the op has %lld nodes and %lld pieces; these widths need %lld and %lld", (long long)op->n,
                 (long long)op->pieces.size(), (long long)n, 2LL * layers);
  for (int l = 0; l < layers; ++l) {
    const cleave::spectral::Piece& p = op->pieces[2 * l];
    const cleave::spectral::Piece& m = op->pieces[2 * l + 1];
    CLEAVE_REQUIRE(name, p.dense && m.dense && p.dst == rows_at[l + 1] && p.rows == widths[l + 1] &&
                             p.src == rows_at[l] && p.cols == widths[l] && m.dst == p.src && m.rows == p.cols &&
                             m.src == p.dst && m.cols == p.rows,
                   "piece %d of the op is not layer %d's dense block and its mirror", 2 * l, l);
  }
  for (int l = 0; l <= layers; ++l)
    CLEAVE_REQUIRE(name, rows_at[l] >= 0 && rows_at[l] + widths[l] <= n, "rows_at[%d] = %lld is out of range", l,
                   (long long)rows_at[l]);
  int64_t bad = 0;
  for (int64_t t = 0; t < n; ++t) degree[t] = 0.0;
  for (int l = 0; l < layers; ++l) {
    const int in = widths[l], out = widths[l + 1];
    const float* wl = w + L.w[l];
    float* a = op->pieces[2 * l].a.data();
    float* al = abs + L.w[l];
    float* at = op->pieces[2 * l + 1].a.data();
    double* dout = degree + rows_at[l + 1];
    double* din = degree + rows_at[l];
    const int team = team_rows((int64_t)in * out);
    int64_t zeros = 0;
#pragma omp parallel num_threads(team) if (team > 1) reduction(+ : bad, zeros)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      // |w| and the row sums (the degrees of layer l + 1's nodes as outputs, added first).
      const int blocks = (out + kRows - 1) / kRows;
#pragma omp for schedule(static)
      for (int ib = 0; ib < blocks; ++ib) {
        const int i0 = ib * kRows, cnt = std::min(kRows, out - i0);
        const float* rows[kRows];
        double row[kRows];
        for (int q = 0; q < cnt; ++q) {
          const int i = i0 + q;
          const float* r = wl + (int64_t)i * in;
          float* ar = a + (int64_t)i * in;
          int64_t nonfinite = 0, zero = 0;
          for (int j = 0; j < in; ++j) {
            const float x = std::fabs(r[j]);
            nonfinite += !(x <= 3.4028234663852886e38f);
            zero += x == 0.0f;
            ar[j] = x;
          }
          bad += nonfinite;
          zeros += zero;
          std::memcpy(al + (int64_t)i * in, ar, sizeof(float) * in);
          rows[q] = ar;
        }
        abs_sum_rows(rows, in, cnt, row);  // sums of the |w| just written: the same values
        for (int q = 0; q < cnt; ++q) dout[i0 + q] += row[q];
      }
      // The column sums (layer l's nodes as inputs), each column's rows in order; then the
      // transpose, in 16 x 16 tiles over this thread's columns.
      const int j0 = (int)((int64_t)in * t / nt), j1 = (int)((int64_t)in * (t + 1) / nt);
      for (int i = 0; i < out; ++i) {
        const float* r = a + (int64_t)i * in;
        for (int j = j0; j < j1; ++j) din[j] += r[j];
      }
      const int B = 16;
      for (int jb = j0; jb < j1; jb += B)
        for (int ib = 0; ib < out; ib += B) {
          const int je = std::min(j1, jb + B), ie = std::min(out, ib + B);
          for (int j = jb; j < je; ++j)
            for (int i = ib; i < ie; ++i) at[(int64_t)j * out + i] = a[(int64_t)i * in + j];
        }
    }
    counts[1 + l] = zeros;
  }
  counts[0] = bad;
  if (bad != 0) return cleave::ok();
  for (int64_t t = 0; t < n; ++t) {
    scale[t] = 1.0 / std::sqrt(degree[t]);
    op->scale[t] = scale[t];
  }
  return cleave::ok();
}
