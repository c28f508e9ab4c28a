// kmeans: k-means++ seeding (greedy, as scikit-learn: 2 + floor(ln k) candidates per center,
// the one that lowers the potential most is kept) and Lloyd iterations, n_init restarts run in
// parallel (one restart per thread at a time), the lowest inertia kept. The Java reference is
// dev.cleave.cluster.KMeans (Backend.JAVA); both draw from the same counter-based generator, so
// they choose the same seeds and agree up to rounding.
//
// Restart r uses seeds[r] alone and runs on one thread, and the best restart is chosen in
// index order, so labels do not depend on the thread count.
#include <immintrin.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>
#include "cleave_cpu.h"
#include "common.h"
#include "cleave_spectral.h"

namespace {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits: the i-th draw of the stream `seed`
// (dev.cleave.cluster.KMeans.uniform is the same function).
inline double uniform(uint64_t seed, uint64_t i) {
  return (double)(mix64(seed + (i + 1) * 0x9E3779B97F4A7C15ULL) >> 11) * 0x1.0p-53;
}

// The hot loops: sqdist_block in AVX-512 and AVX2 (chosen at load time), nearest_two compiled
// for AVX-512 and for the x86-64-v3 baseline (the loader picks one).
// out[t] = sum_j (src[j][t] - center[j])^2 for t < m (src: d rows of stride ld), summed over j
// in order, each term by one fused multiply-add (out = fma(v, v, out)). Eight points at a time
// keep their sums in registers across the d coordinates instead of passing out[] through memory
// d times; every variant computes the same sums, FMA for FMA.
inline void sqdist_tail(const double* src, int64_t ld, int d, int64_t t0, int64_t m, const double* center,
                        double* out) {
  for (int64_t t = t0; t < m; ++t) {
    double acc = 0.0;
    for (int j = 0; j < d; ++j) {
      const double v = src[(size_t)j * ld + t] - center[j];
      acc = std::fma(v, v, acc);
    }
    out[t] = acc;
  }
}

__attribute__((target("avx512f"))) void sqdist_block512(const double* src, int64_t ld, int d, int64_t m,
                                                        const double* center, double* out) {
  int64_t t0 = 0;
  for (; t0 + 8 <= m; t0 += 8) {
    __m512d acc = _mm512_setzero_pd();
    for (int j = 0; j < d; ++j) {
      const __m512d v = _mm512_sub_pd(_mm512_loadu_pd(src + (size_t)j * ld + t0), _mm512_set1_pd(center[j]));
      acc = _mm512_fmadd_pd(v, v, acc);
    }
    _mm512_storeu_pd(out + t0, acc);
  }
  sqdist_tail(src, ld, d, t0, m, center, out);
}

void sqdist_block256(const double* src, int64_t ld, int d, int64_t m, const double* center, double* out) {
  int64_t t0 = 0;
  for (; t0 + 8 <= m; t0 += 8) {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    for (int j = 0; j < d; ++j) {
      const double* row = src + (size_t)j * ld + t0;
      const __m256d c = _mm256_set1_pd(center[j]);
      const __m256d v0 = _mm256_sub_pd(_mm256_loadu_pd(row), c);
      const __m256d v1 = _mm256_sub_pd(_mm256_loadu_pd(row + 4), c);
      a0 = _mm256_fmadd_pd(v0, v0, a0);
      a1 = _mm256_fmadd_pd(v1, v1, a1);
    }
    _mm256_storeu_pd(out + t0, a0);
    _mm256_storeu_pd(out + t0 + 4, a1);
  }
  sqdist_tail(src, ld, d, t0, m, center, out);
}

bool detect_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
const bool kAvx512 = detect_avx512();

inline void sqdist_block(const double* src, int64_t ld, int d, int64_t m, const double* center, double* out) {
  if (kAvx512) sqdist_block512(src, ld, d, m, center, out);
  else sqdist_block256(src, ld, d, m, center, out);
}

// Nearest (bd, index bc) and second-nearest (sd) of k candidates per point; D is k x stride.
// Branch-free; ties keep the lowest index, as a scalar scan would.
__attribute__((target_clones("avx512f", "default"))) void nearest_two(const double* D, int k, int64_t m,
                                                                     int64_t stride, double* bd, double* sd,
                                                                     double* bc) {
  for (int64_t t = 0; t < m; ++t) {
    bd[t] = D[t];
    sd[t] = INFINITY;
    bc[t] = 0.0;
  }
  for (int c = 1; c < k; ++c) {
    const double* dc = D + (size_t)c * stride;
    const double cd = (double)c;
    for (int64_t t = 0; t < m; ++t) {
      const double v = dc[t];
      const bool nb = v < bd[t];
      sd[t] = nb ? bd[t] : (v < sd[t] ? v : sd[t]);
      bc[t] = nb ? cd : bc[t];
      bd[t] = nb ? v : bd[t];
    }
  }
}

struct Run {
  std::vector<int32_t> labels;
  std::vector<double> centers;
  double inertia = 0.0;
  int iterations = 0;
};

class KMeans {
 public:
  // xt: the points transposed (d x n), shared by all restarts.
  KMeans(const double* x, const double* xt, int64_t n, int d, int k) : x_(x), xt_(xt), n_(n), d_(d), k_(k) {}

  static constexpr int64_t kBlock = 64;

  // out[i - i0] = |x_i - c|^2 for i in [i0, i1): vectorized across points.
  void dist_to(const double* c, int64_t i0, int64_t i1, double* out) const {
    sqdist_block(xt_ + i0, n_, d_, i1 - i0, c, out);
  }

  double dist2(const double* a, const double* b) const {
    double s = 0.0;
    for (int j = 0; j < d_; ++j) {
      const double t = a[j] - b[j];
      s += t * t;
    }
    return s;
  }

  // The trials' candidates of one center are drawn first (their draws depend on the potential of
  // the centers chosen so far only), then scored in one pass over the points: each candidate's
  // potential is still the sum over the points in index order, but the trials' sums advance side
  // by side instead of one chain after another. Ties keep the earliest trial, as one at a time would.
  void seed_plusplus(uint64_t seed, double* centers) const {
    uint64_t draw = 0;
    const int trials = 2 + (int)std::log((double)k_);
    std::vector<double> closest(n_), cum(n_), cand((size_t)trials * n_), tmp((size_t)trials * kBlock), pot(trials);
    std::vector<int64_t> idx(trials);
    int64_t first = std::min<int64_t>(n_ - 1, (int64_t)(uniform(seed, draw++) * (double)n_));
    std::memcpy(centers, x_ + first * d_, sizeof(double) * d_);
    for (int64_t i0 = 0; i0 < n_; i0 += kBlock) dist_to(centers, i0, std::min(n_, i0 + kBlock), &closest[i0]);
    for (int c = 1; c < k_; ++c) {
      double s = 0.0;
      for (int64_t i = 0; i < n_; ++i) cum[i] = (s += closest[i]);
      for (int t = 0; t < trials; ++t) {
        const double r = uniform(seed, draw++);
        if (s > 0.0) {
          idx[t] = std::upper_bound(cum.begin(), cum.end(), r * s) - cum.begin();
          if (idx[t] >= n_) idx[t] = n_ - 1;
        } else {
          idx[t] = std::min<int64_t>(n_ - 1, (int64_t)(r * (double)n_));
        }
        pot[t] = 0.0;
      }
      for (int64_t i0 = 0; i0 < n_; i0 += kBlock) {
        const int64_t i1 = std::min(n_, i0 + kBlock);
        for (int t = 0; t < trials; ++t) dist_to(x_ + idx[t] * d_, i0, i1, &tmp[(size_t)t * kBlock]);
        if (trials == 4) {
          score<4>(i0, i1, closest.data(), tmp.data(), cand.data(), pot.data());
        } else {
          score<0>(i0, i1, closest.data(), tmp.data(), cand.data(), pot.data(), trials);
        }
      }
      int best = 0;
      for (int t = 1; t < trials; ++t)
        if (pot[t] < pot[best]) best = t;
      std::memcpy(centers + (size_t)c * d_, x_ + idx[best] * d_, sizeof(double) * d_);
      std::memcpy(closest.data(), &cand[(size_t)best * n_], sizeof(double) * n_);
    }
  }

  // For points [i0, i1) and each trial t: cand[t][i] = min(closest[i], tmp[t][i - i0]), added to
  // pot[t] in index order (T > 0: the trial count fixed at compile time, the sums in registers).
  template <int T>
  void score(int64_t i0, int64_t i1, const double* closest, const double* tmp, double* cand, double* pot,
             int trials = T) const {
    const int nt = T > 0 ? T : trials;
    double acc[T > 0 ? T : 1];
    if (T > 0) {
      for (int t = 0; t < T; ++t) acc[t] = pot[t];
      for (int64_t i = i0; i < i1; ++i)
        for (int t = 0; t < T; ++t) {
          const double dd = std::min(closest[i], tmp[(size_t)t * kBlock + (i - i0)]);
          cand[(size_t)t * n_ + i] = dd;
          acc[t] += dd;
        }
      for (int t = 0; t < T; ++t) pot[t] = acc[t];
    } else {
      for (int64_t i = i0; i < i1; ++i)
        for (int t = 0; t < nt; ++t) {
          const double dd = std::min(closest[i], tmp[(size_t)t * kBlock + (i - i0)]);
          cand[(size_t)t * n_ + i] = dd;
          pot[t] += dd;
        }
    }
  }

  // Empty clusters take the point farthest from its center (among clusters with > 1 point);
  // the point becomes the center of its new cluster.
  bool relocate_empty(int32_t* labels, double* dist, double* centers) const {
    std::vector<int64_t> count(k_, 0);
    for (int64_t i = 0; i < n_; ++i) ++count[labels[i]];
    bool any = false;
    for (int c = 0; c < k_; ++c) {
      if (count[c] > 0) continue;
      int64_t far = -1;
      for (int64_t i = 0; i < n_; ++i)
        if (count[labels[i]] > 1 && (far < 0 || dist[i] > dist[far])) far = i;
      if (far < 0) break;  // n < k cannot happen (validated); defensive
      --count[labels[far]];
      labels[far] = c;
      dist[far] = 0.0;
      count[c] = 1;
      std::memcpy(centers + (size_t)c * d_, x_ + far * d_, sizeof(double) * d_);
      any = true;
    }
    return any;
  }

  // Every center becomes the mean of its points (none is empty: relocate_empty ran first). Each
  // coordinate sums its cluster's points in index order, whatever the width D (a compile-time
  // width only lets the row addition unroll, four coordinates per AVX2 add; the sums are the same).
  template <int D>
  void sum_rows(const int32_t* labels, double* __restrict centers, int64_t* __restrict count) const {
    const int d = D > 0 ? D : d_;
    const double* __restrict x = x_;
    for (int64_t i = 0; i < n_; ++i) {
      ++count[labels[i]];
      double* __restrict ci = centers + (size_t)labels[i] * d;
      const double* __restrict xi = x + i * d;
      for (int j = 0; j < d; ++j) ci[j] += xi[j];
    }
  }

  // sum_rows for a width of V AVX2 vectors (D = 4 V): a run of consecutive points of one cluster
  // is summed in registers, loaded from and stored back to its center at the run's ends, which
  // is the same sequence of additions as adding each point to the center in memory.
  template <int V>
  void sum_rows_runs(const int32_t* labels, double* __restrict centers, int64_t* __restrict count) const {
    constexpr int D = 4 * V;
    const double* __restrict x = x_;
    int64_t i = 0;
    while (i < n_) {
      const int32_t c = labels[i];
      double* __restrict ci = centers + (size_t)c * D;
      __m256d acc[V];
      for (int v = 0; v < V; ++v) acc[v] = _mm256_loadu_pd(ci + 4 * v);
      int64_t e = i;
      for (; e < n_ && labels[e] == c; ++e)
        for (int v = 0; v < V; ++v) acc[v] = _mm256_add_pd(acc[v], _mm256_loadu_pd(x + e * D + 4 * v));
      for (int v = 0; v < V; ++v) _mm256_storeu_pd(ci + 4 * v, acc[v]);
      count[c] += e - i;
      i = e;
    }
  }

  void update_means(const int32_t* labels, double* centers) const {
    std::vector<int64_t> count(k_, 0);
    std::fill(centers, centers + (size_t)k_ * d_, 0.0);
    switch (d_) {
      case 4: sum_rows_runs<1>(labels, centers, count.data()); break;
      case 8: sum_rows_runs<2>(labels, centers, count.data()); break;
      case 12: sum_rows_runs<3>(labels, centers, count.data()); break;
      case 16: sum_rows_runs<4>(labels, centers, count.data()); break;
      case 10: sum_rows<10>(labels, centers, count.data()); break;
      default: sum_rows<0>(labels, centers, count.data()); break;
    }
    for (int c = 0; c < k_; ++c)
      for (int j = 0; j < d_; ++j) centers[(size_t)c * d_ + j] /= (double)count[c];
  }

  // Full assignment of the listed points (or of all when list is null), kBlock at a time: the
  // k x block distance matrix is computed vectorized across points, then the nearest and
  // second-nearest center of each point (their square roots, the bounds, in one vector pass).
  // sizes[c] (the points labelled c; label -1 counts nowhere) follows every label change.
  // Returns how many labels changed.
  int64_t assign(const double* centers, const int64_t* list, int64_t count, int32_t* labels, double* dist,
                 double* upper, double* lower, int64_t* sizes, std::vector<double>& buf) const {
    buf.resize((size_t)(k_ + d_ + 5) * kBlock);
    double* D = buf.data();                          // k x kBlock
    double* P = buf.data() + (size_t)k_ * kBlock;     // d x kBlock: the block's points, transposed
    double* B = P + (size_t)d_ * kBlock;              // 3 x kBlock: best, second, best index
    int64_t changed = 0;
    for (int64_t b0 = 0; b0 < count; b0 += kBlock) {
      const int64_t m = std::min(kBlock, count - b0);
      const double* src;
      int64_t ld;
      if (list) {
        // Gathered from the row-major points (one contiguous row per point), not from the
        // transposed copy (d cache lines per point, n apart).
        for (int64_t t = 0; t < m; ++t) {
          const double* xi = x_ + list[b0 + t] * d_;
          for (int j = 0; j < d_; ++j) P[(size_t)j * kBlock + t] = xi[j];
        }
        src = P;
        ld = kBlock;
      } else {
        src = xt_ + b0;
        ld = n_;
      }
      for (int c = 0; c < k_; ++c) sqdist_block(src, ld, d_, m, centers + (size_t)c * d_, D + (size_t)c * kBlock);
      // Nearest and second-nearest center, branch-free and vectorized across the block
      // (ties keep the lowest center index, as a scalar scan would).
      double* bd = B;
      double* sd = B + kBlock;
      double* bc = B + 2 * kBlock;
      nearest_two(D, k_, m, kBlock, bd, sd, bc);
      double* ub = B + 3 * kBlock;
      double* lb = B + 4 * kBlock;
      for (int64_t t = 0; t < m; ++t) {
        ub[t] = std::sqrt(bd[t]);
        lb[t] = std::sqrt(sd[t]);
      }
      for (int64_t t = 0; t < m; ++t) {
        const int64_t i = list ? list[b0 + t] : b0 + t;
        const int best = (int)bc[t];
        const int old = labels[i];
        if (old != best) {
          ++changed;
          if (old >= 0) --sizes[old];
          ++sizes[best];
        }
        labels[i] = best;
        dist[i] = bd[t];
        upper[i] = ub[t];
        lower[i] = lb[t];
      }
    }
    return changed;
  }

  // Lloyd's iterations in Hamerly's exact form: per point an upper bound u on the distance to
  // its center and a lower bound l on the distance to any other; a point whose u is at most
  // max(l, half the distance from its center to the nearest other center) cannot change label
  // and is skipped. Same assignments as plain Lloyd (which the Java reference runs) up to
  // rounding at exact ties.
  void run(uint64_t seed, int max_iter, double shift_tol, Run& out) const {
    out.labels.assign(n_, -1);
    out.centers.assign((size_t)k_ * d_, 0.0);
    seed_plusplus(seed, out.centers.data());
    std::vector<double> dist(n_), prev((size_t)k_ * d_), upper(n_), lower(n_), half_gap(k_), moved(k_), buf;
    std::vector<int64_t> todo(n_), sizes(k_, 0);
    int32_t* lab = out.labels.data();
    double* cen = out.centers.data();
    bool strict = false;
    int it = 0;
    int64_t nt = 0;  // the points the bounds could not rule out (from the previous iteration's last pass)
    while (it < max_iter) {
      ++it;
      int64_t changed = 0;
      if (it == 1) {
        changed = assign(cen, nullptr, n_, lab, dist.data(), upper.data(), lower.data(), sizes.data(), buf);
      } else {
        changed = assign(cen, todo.data(), nt, lab, dist.data(), upper.data(), lower.data(), sizes.data(), buf);
      }
      if (changed == 0 && it > 1) {
        strict = true;
        break;
      }
      prev = out.centers;
      bool empty = false;
      for (int c = 0; c < k_; ++c) empty |= sizes[c] == 0;
      if (empty) {  // exact distances for the relocation (rare)
        for (int64_t i = 0; i < n_; ++i) dist[i] = dist2(x_ + i * d_, cen + (size_t)lab[i] * d_);
        relocate_empty(lab, dist.data(), cen);
        std::fill(sizes.begin(), sizes.end(), 0);
        for (int64_t i = 0; i < n_; ++i) ++sizes[lab[i]];
      }
      update_means(lab, cen);
      double shift = 0.0, max_move = 0.0, second_move = 0.0;
      int max_at = -1;
      for (int c = 0; c < k_; ++c) {
        const double m2 = dist2(prev.data() + (size_t)c * d_, cen + (size_t)c * d_);
        shift += m2;
        moved[c] = std::sqrt(m2);
        if (moved[c] > max_move) {
          second_move = max_move;
          max_move = moved[c];
          max_at = c;
        } else if (moved[c] > second_move) {
          second_move = moved[c];
        }
      }
      for (int c = 0; c < k_; ++c) {  // half the distance from each new center to the nearest other one
        double m = INFINITY;
        for (int o = 0; o < k_; ++o)
          if (o != c) m = std::min(m, dist2(cen + (size_t)c * d_, cen + (size_t)o * d_));
        half_gap[c] = 0.5 * std::sqrt(m);
      }
      // The bounds follow the centers' moves, and in the same pass the points whose bounds can no
      // longer rule out a label change are listed for the next assignment (branch-free: every
      // index is written, the kept ones advance nt).
      nt = 0;
      for (int64_t i = 0; i < n_; ++i) {
        const int32_t l = lab[i];
        const double u = empty ? INFINITY : upper[i] + moved[l];  // relocated points: every point is re-assigned
        const double lo = lower[i] - (l == max_at ? second_move : max_move);
        upper[i] = u;
        lower[i] = lo;
        todo[nt] = i;
        nt += u > std::max(half_gap[l], lo);
      }
      if (shift <= shift_tol) break;
    }
    // Unless Lloyd converged strictly, a final assignment to the final centers, after which no
    // cluster may be left empty. Then exact distances for the inertia.
    if (!strict) {
      assign(cen, nullptr, n_, lab, dist.data(), upper.data(), lower.data(), sizes.data(), buf);
      relocate_empty(lab, dist.data(), cen);
    }
    double inertia = 0.0;
    for (int64_t i = 0; i < n_; ++i) inertia += dist2(x_ + i * d_, cen + (size_t)lab[i] * d_);
    out.inertia = inertia;
    out.iterations = it;
  }

 private:
  const double* x_;
  const double* xt_;
  int64_t n_;
  int d_, k_;
};

}  // namespace

extern "C" int cleave_kmeans(const double* x, int64_t n, int d, int k, int n_init, int max_iter, double tol,
                             const uint64_t* seeds, int threads, int32_t* labels, double* centers, double* inertia,
                             int32_t* stats) {
  const char* OP = "kmeans";
  CLEAVE_REQUIRE(OP, x && seeds && labels && centers && inertia && stats, "arrays must not be null");
  CLEAVE_REQUIRE(OP, n >= 1 && d >= 1 && k >= 1 && k <= n, "need n >= 1, d >= 1 and 1 <= k <= n; got n = %lld, d = %d, k = %d",
                 (long long)n, d, k);
  CLEAVE_REQUIRE(OP, n_init >= 1 && max_iter >= 1 && tol >= 0.0, "n_init and max_iter must be >= 1 and tol >= 0");
  CLEAVE_REQUIRE(OP, threads >= 1 && threads <= 1024, "threads must be in [1, 1024], got %d", threads);
  for (int64_t i = 0; i < n * d; ++i)
    CLEAVE_REQUIRE(OP, std::isfinite(x[i]), "x[%lld] = %g is not finite", (long long)i, x[i]);
  try {
    // Shift tolerance relative to the data's mean per-dimension variance, as scikit-learn.
    double var = 0.0;
    for (int j = 0; j < d; ++j) {
      double m = 0.0, s = 0.0;
      for (int64_t i = 0; i < n; ++i) m += x[i * d + j];
      m /= (double)n;
      for (int64_t i = 0; i < n; ++i) s += (x[i * d + j] - m) * (x[i * d + j] - m);
      var += s / (double)n;
    }
    const double shift_tol = tol * var / d;
    std::vector<double> xt((size_t)n * d);
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < d; ++j) xt[(size_t)j * n + i] = x[i * d + j];
    KMeans km(x, xt.data(), n, d, k);
    std::vector<Run> runs(n_init);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int r = 0; r < n_init; ++r) km.run(seeds[r], max_iter, shift_tol, runs[r]);
    int best = 0;
    for (int r = 1; r < n_init; ++r)
      if (runs[r].inertia < runs[best].inertia) best = r;
    std::memcpy(labels, runs[best].labels.data(), sizeof(int32_t) * n);
    std::memcpy(centers, runs[best].centers.data(), sizeof(double) * k * d);
    inertia[0] = runs[best].inertia;
    stats[0] = runs[best].iterations;
    stats[1] = best;
  } catch (const std::bad_alloc&) {
    return cleave::set_error(OP, __FILE__, __LINE__, "out of memory for %lld points", (long long)n);
  }
  return cleave::ok();
}

// The assignment step alone (exported for the parity test of the CUDA kmeans_assign): the same
// distance and nearest-center kernels as KMeans::assign, over all points.
extern "C" int cleave_kmeans_assign(const double* x, int64_t n, int d, const double* centers, int k, int32_t* labels,
                                    double* dist) {
  const char* OP = "kmeans_assign";
  CLEAVE_REQUIRE(OP, x && centers && labels && dist, "arrays must not be null");
  CLEAVE_REQUIRE(OP, n >= 1 && d >= 1 && k >= 1, "need n >= 1, d >= 1 and k >= 1; got n = %lld, d = %d, k = %d",
                 (long long)n, d, k);
  try {
    std::vector<double> xt((size_t)n * d);
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < d; ++j) xt[(size_t)j * n + i] = x[i * d + j];
    const int64_t B = 64;
    std::vector<double> D((size_t)k * B), bd(B), sd(B), bc(B);
    for (int64_t i0 = 0; i0 < n; i0 += B) {
      const int64_t m = std::min(B, n - i0);
      for (int c = 0; c < k; ++c) sqdist_block(xt.data() + i0, n, d, m, centers + (size_t)c * d, D.data() + (size_t)c * B);
      nearest_two(D.data(), k, m, B, bd.data(), sd.data(), bc.data());
      for (int64_t t = 0; t < m; ++t) {
        labels[i0 + t] = (int32_t)bc[t];
        dist[i0 + t] = bd[t];
      }
    }
  } catch (const std::bad_alloc&) {
    return cleave::set_error(OP, __FILE__, __LINE__, "out of memory for %lld points", (long long)n);
  }
  return cleave::ok();
}
