// conv2d_forward / conv2d_backward: the convolutional layer, NCHW, weight (out, in, k, k).
//
// Two algorithms, chosen per shape by choose() below (the rule and the numbers it rests on are
// there); both run one image at a time per OpenMP thread (images are split into contiguous
// ranges, one per part, as many parts as the threads set; OpenBLAS runs single-threaded inside
// each, as in linear.cpp):
// - im2col + sgemm (any shape): the patches of one image become a (in*k*k x outH*outW) matrix
//   `col`, and
//     forward:  y_n (out x outHW)   = W (out x in*k*k) col_n, then bias and ReLU in one pass
//               over y_n while it is in cache;
//     backward: dW += dy_n col_n^T into a per-thread partial, dcol = W^T dy_n, scattered back
//               into dx_n by col2im.
//   A 1x1 kernel with stride 1 and no padding needs no col: x_n is already the matrix.
// - Winograd F(2x2, 3x3) for 3x3 stride 1 (conv2d_winograd.cpp): 16 sgemms per image on
//   transformed tiles, 2.25x fewer multiplies; the backward pass is the exact adjoint (dW
//   accumulated in the transformed domain per thread, transformed back once).
// Backward, both: dy_n is first masked by (y_n > 0) in place and db += its row sums; each part
// accumulates its own dW and db partials, summed in part order at the end, so the result depends
// on the threads set but not on the team running the parts nor on timing. Scratch buffers are
// per-thread native buffers (a thread's partials for all its parts), grown on demand
// and reused across calls (no allocation in steady state).
// Timed by benchmarks/.../ConvBench.java and benchmarks/native/conv_algos.cpp (commands in
// their headers); the numbers behind choose() are above it.
#include <cblas.h>
#include <omp.h>
#include <algorithm>
#include <cstring>
#include <vector>
#include "cleave_cpu.h"
#include "common.h"
#include "conv2d_internal.h"

namespace cleave::conv {
namespace {
// col (patch x ohw): col[(c*k + kh)*k + kw][r*ow + q] = x[c][r*s - p + kh][q*s - p + kw] or 0.
void im2col(const Geometry& g, const float* x, float* col) {
  for (int c = 0; c < g.in; ++c) {
    const float* xc = x + (int64_t)c * g.h * g.w;
    for (int kh = 0; kh < g.k; ++kh) {
      for (int kw = 0; kw < g.k; ++kw) {
        float* row = col + (((int64_t)c * g.k + kh) * g.k + kw) * g.ohw();
        // Output columns q whose input column q*s - p + kw lies in [0, w).
        int q0 = 0, q1 = g.ow;
        while (q0 < g.ow && q0 * g.stride - g.pad + kw < 0) ++q0;
        while (q1 > q0 && (q1 - 1) * g.stride - g.pad + kw >= g.w) --q1;
        for (int r = 0; r < g.oh; ++r) {
          float* dst = row + (int64_t)r * g.ow;
          const int ih = r * g.stride - g.pad + kh;
          if (ih < 0 || ih >= g.h) {
            std::memset(dst, 0, sizeof(float) * g.ow);
            continue;
          }
          const float* src = xc + (int64_t)ih * g.w - g.pad + kw;
          for (int q = 0; q < q0; ++q) dst[q] = 0.0f;
          if (g.stride == 1) {
            if (q1 > q0) std::memcpy(dst + q0, src + q0, sizeof(float) * (q1 - q0));
          } else {
            for (int q = q0; q < q1; ++q) dst[q] = src[(int64_t)q * g.stride];
          }
          for (int q = q1; q < g.ow; ++q) dst[q] = 0.0f;
        }
      }
    }
  }
}

// dx (in x h x w) = 0, then += every entry of dcol (patch x ohw) at the pixel it came from.
void col2im(const Geometry& g, const float* dcol, float* dx) {
  std::memset(dx, 0, sizeof(float) * g.in_size());
  for (int c = 0; c < g.in; ++c) {
    float* xc = dx + (int64_t)c * g.h * g.w;
    for (int kh = 0; kh < g.k; ++kh) {
      for (int kw = 0; kw < g.k; ++kw) {
        const float* row = dcol + (((int64_t)c * g.k + kh) * g.k + kw) * g.ohw();
        int q0 = 0, q1 = g.ow;
        while (q0 < g.ow && q0 * g.stride - g.pad + kw < 0) ++q0;
        while (q1 > q0 && (q1 - 1) * g.stride - g.pad + kw >= g.w) --q1;
        for (int r = 0; r < g.oh; ++r) {
          const int ih = r * g.stride - g.pad + kh;
          if (ih < 0 || ih >= g.h) continue;
          const float* src = row + (int64_t)r * g.ow;
          float* dst = xc + (int64_t)ih * g.w - g.pad + kw;
          for (int q = q0; q < q1; ++q) dst[(int64_t)q * g.stride] += src[q];
        }
      }
    }
  }
}

// Per-thread scratch, reused across calls.
thread_local std::vector<float> tl_col, tl_dcol, tl_dw, tl_db, tl_u;

float* grow(std::vector<float>& v, int64_t n) {
  if ((int64_t)v.size() < n) v.resize(n);
  return v.data();
}

// Images [n0, n1) of thread t of `parts`: contiguous ranges.
inline void image_range(int batch, int parts, int t, int* n0, int* n1) {
  const int per = batch / parts, extra = batch % parts;
  *n0 = t * per + std::min(t, extra);
  *n1 = *n0 + per + (t < extra ? 1 : 0);
}

int check_geometry(const char* op, int batch, int in, int h, int w, int out, int k, int stride, int pad,
                   Geometry* g) {
  CLEAVE_CHECK_CONV2D_GEOMETRY(op, batch, in, h, w, out, k, stride, pad);
  *g = Geometry{batch, in, h, w, out, k, stride, pad, (h + 2 * pad - k) / stride + 1, (w + 2 * pad - k) / stride + 1};
  return 0;
}

// y_n += bias, then ReLU, in one pass.
void epilogue(const Geometry& g, const float* b, int relu, float* yn) {
  if (!b && !relu) return;
  for (int o = 0; o < g.out; ++o) {
    float* yo = yn + o * g.ohw();
    const float bo = b ? b[o] : 0.0f;
    if (relu) {
      for (int64_t i = 0; i < g.ohw(); ++i) {
        const float v = yo[i] + bo;
        yo[i] = v > 0.0f ? v : 0.0f;
      }
    } else {
      for (int64_t i = 0; i < g.ohw(); ++i) yo[i] += bo;
    }
  }
}

// dy_n masked by (y_n > 0) when relu; db partial += its row sums.
void mask_and_bias_grad(const Geometry& g, const float* yn, int relu, float* dyn, float* pdb) {
  for (int o = 0; o < g.out; ++o) {
    float* d = dyn + o * g.ohw();
    if (relu) {
      const float* yo = yn + o * g.ohw();
      for (int64_t i = 0; i < g.ohw(); ++i) d[i] = yo[i] > 0.0f ? d[i] : 0.0f;
    }
    float s = 0.0f;
    for (int64_t i = 0; i < g.ohw(); ++i) s += d[i];
    pdb[o] += s;
  }
}
}  // namespace

// The dispatch rule: Winograd F(2x2, 3x3) for 3x3 stride-1 layers with at least 8 input and 8
// output channels, im2col + sgemm for everything else. Measured with benchmarks/scripts/
// conv_algos.sh 64 7 1 (batch 64, 1 thread, OPENBLAS_CORETYPE=SkylakeX, 2-core AMD EPYC with
// AVX-512, 2026-12-07, load average 12 to 16 from other builds, so single runs vary up to 2x;
// medians of 7, forward / backward ms):
//   layer           im2col          Winograd
//   1->64 28x28     0.55 / 6.1      7.6 / 10.3    (f21-cnn conv1, no dx: im2col)
//   3->32 32x32     0.90 / 3.2      1.0 / 11.6    (CIFAR first layer, no dx: im2col)
//   4->4 28x28      0.32 / 1.04     0.32 / 0.80   (a tie: im2col)
//   8->8 28x28      0.75 / 6.4      0.66 / 5.4
//   16->16 28x28    11.2 / 26.9     1.6 / 13.9
//   32->64 32x32    50.1 / 113.5    28.2 / 72.8
//   64->64 28x28    70.9 / 148.4    31.6 / 78.2   (f21-cnn conv2)
//   64->64 14x14    21.3 / 40.4     8.7 / 25.4    (f21-cnn conv3)
// Also measured and removed again: a direct algorithm (commit dcdd1e5) lost on every shape,
// conv1 included (6.0 / 17.5 ms); Winograd F(4x4, 3x3) (commit baeb134; 4x fewer multiplies,
// rounding 7e-6 of the largest value instead of 6e-7) lost too, its 36 transforms costing more
// than the sgemm time saved: 64->64 28x28 43.2 / 80.5 ms, 64->64 14x14 30.1 / 49.4 ms,
// 32->64 32x32 32.2 / 68.3 ms against F(2x2, 3x3)'s 29.7 / 71.7, 10.3 / 20.8, 31.6 / 62.4
// measured in the same run.
Algorithm choose(const Geometry& g) {
  return winograd_applies(g) && g.in >= kWinogradMinChannels && g.out >= kWinogradMinChannels ? Algorithm::kWinograd
                                                                                                : Algorithm::kIm2col;
}

int forward(Algorithm algo, const Geometry& g, const float* x, const float* w, const float* b, float* y, int relu) {
  if (algo == Algorithm::kWinograd && !winograd_applies(g)) algo = Algorithm::kIm2col;
  const int parts = std::max(1, std::min(cleave::threads(), g.batch));
  Winograd plan{};
  float* u = nullptr;
  if (algo == Algorithm::kWinograd) {
    plan = winograd_plan(g);
    u = grow(tl_u, plan.u_size());
    winograd_weights(plan, w, u);
  }
  const int team = cleave::team(parts);
#pragma omp parallel num_threads(team) if (team > 1)
  {
    // Images are independent here: a thread takes the images of its parts as one range.
    int n0, n1;
    image_range(g.batch, omp_get_num_threads(), omp_get_thread_num(), &n0, &n1);
    if (n1 > n0 && algo == Algorithm::kWinograd) {
      float* scratch = grow(tl_col, plan.scratch_floats());
      for (int n = n0; n < n1; ++n) {
        winograd_forward_image(plan, u, b, relu, x + n * g.in_size(), y + n * g.out_size(), scratch);
      }
    } else if (n1 > n0) {
      float* col = g.direct() ? nullptr : grow(tl_col, g.patch() * g.ohw());
      for (int n = n0; n < n1; ++n) {
        const float* xn = x + n * g.in_size();
        float* yn = y + n * g.out_size();
        if (!g.direct()) im2col(g, xn, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.out, (int)g.ohw(), (int)g.patch(), 1.0f, w,
                    (int)g.patch(), g.direct() ? xn : col, (int)g.ohw(), 0.0f, yn, (int)g.ohw());
        epilogue(g, b, relu, yn);
      }
    }
  }
  return cleave::ok();
}

int backward(Algorithm algo, const Geometry& g, const float* x, const float* w, const float* y, float* dy, float* dx,
             float* dw, float* db, int relu) {
  if (algo == Algorithm::kWinograd && !winograd_applies(g)) algo = Algorithm::kIm2col;
  const int parts = std::max(1, std::min(cleave::threads(), g.batch));
  const int64_t wsize = g.out * g.patch();
  Winograd plan{};
  float* u = nullptr;
  if (algo == Algorithm::kWinograd) {
    plan = winograd_plan(g);
    u = grow(tl_u, plan.u_size());
    winograd_weights(plan, w, u);
  }
  // The per-thread weight-gradient partial: dW itself, or dU (16 x out x in) for Winograd.
  const int64_t psize = algo == Algorithm::kWinograd ? plan.u_size() : wsize;
  std::vector<float*> dw_parts(parts, nullptr), db_parts(parts, nullptr);
  const int team = cleave::team(parts);
#pragma omp parallel num_threads(team) if (team > 1)
  {
    // Part p (the images image_range(batch, parts, p)) accumulates its own dW and db partials,
    // so the sums below, in part order, are the same for every team.
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int mine = (parts - t + nt - 1) / nt;
    float* pdw_all = grow(tl_dw, psize * mine);
    float* pdb_all = grow(tl_db, (int64_t)g.out * mine);
    std::memset(pdw_all, 0, sizeof(float) * psize * mine);
    std::memset(pdb_all, 0, sizeof(float) * g.out * mine);
    for (int p = t, k = 0; p < parts; p += nt, ++k) {
      float* pdw = pdw_all + psize * k;
      float* pdb = pdb_all + (int64_t)g.out * k;
      dw_parts[p] = pdw;
      db_parts[p] = pdb;
      int n0, n1;
      image_range(g.batch, parts, p, &n0, &n1);
      if (n1 > n0 && algo == Algorithm::kWinograd) {
        float* scratch = grow(tl_col, plan.scratch_floats());
        for (int n = n0; n < n1; ++n) {
          float* dyn = dy + n * g.out_size();
          mask_and_bias_grad(g, y ? y + n * g.out_size() : nullptr, relu, dyn, pdb);
          winograd_backward_image(plan, u, x + n * g.in_size(), dyn, dx ? dx + n * g.in_size() : nullptr, pdw, scratch);
        }
      } else if (n1 > n0) {
        float* col = g.direct() ? nullptr : grow(tl_col, g.patch() * g.ohw());
        float* dcol = (dx && !g.direct()) ? grow(tl_dcol, g.patch() * g.ohw()) : nullptr;
        for (int n = n0; n < n1; ++n) {
          const float* xn = x + n * g.in_size();
          float* dyn = dy + n * g.out_size();
          mask_and_bias_grad(g, y ? y + n * g.out_size() : nullptr, relu, dyn, pdb);
          if (!g.direct()) im2col(g, xn, col);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g.out, (int)g.patch(), (int)g.ohw(), 1.0f, dyn,
                      (int)g.ohw(), g.direct() ? xn : col, (int)g.ohw(), 1.0f, pdw, (int)g.patch());
          if (dx) {
            float* dxn = dx + n * g.in_size();
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)g.patch(), (int)g.ohw(), g.out, 1.0f, w,
                        (int)g.patch(), dyn, (int)g.ohw(), 0.0f, g.direct() ? dxn : dcol, (int)g.ohw());
            if (!g.direct()) col2im(g, dcol, dxn);
          }
        }
      }
    }
#pragma omp barrier
    // The partials summed in part order, each thread a slice of the entries (into the first
    // partial for Winograd, transformed into dw below; straight into dw otherwise).
    float* sum = algo == Algorithm::kWinograd ? dw_parts[0] : dw;
    const int64_t per = (psize + nt - 1) / nt;
    const int64_t i0 = std::min(psize, t * per), i1 = std::min(psize, i0 + per);
    for (int64_t i = i0; i < i1; ++i) {
      float s = dw_parts[0][i];
      for (int p = 1; p < parts; ++p) s += dw_parts[p][i];
      sum[i] = s;
    }
    if (db && t == 0) {
      for (int o = 0; o < g.out; ++o) {
        float s = db_parts[0][o];
        for (int p = 1; p < parts; ++p) s += db_parts[p][o];
        db[o] = s;
      }
    }
  }
  if (algo == Algorithm::kWinograd) winograd_weight_grad(plan, dw_parts[0], dw);
  return cleave::ok();
}

int make_geometry(const char* op, int batch, int in, int h, int w, int out, int k, int stride, int pad, Geometry* g) {
  return check_geometry(op, batch, in, h, w, out, k, stride, pad, g);
}
}  // namespace cleave::conv

extern "C" int cleave_conv2d_forward(const float* x, const float* w, const float* b, float* y, int batch,
                                     int in_channels, int height, int width, int out_channels, int kernel,
                                     int stride, int padding, int relu) {
  using namespace cleave::conv;
  const char* op = "conv2d_forward";
  CLEAVE_CHECK_CONV2D_FORWARD_POINTERS(op, x, w, y);
  Geometry g;
  if (const int status = check_geometry(op, batch, in_channels, height, width, out_channels, kernel, stride, padding, &g)) return status;
  return forward(choose(g), g, x, w, b, y, relu);
}

extern "C" int cleave_conv2d_backward(const float* x, const float* w, const float* y, float* dy, float* dx,
                                      float* dw, float* db, int batch, int in_channels, int height, int width,
                                      int out_channels, int kernel, int stride, int padding, int relu) {
  using namespace cleave::conv;
  const char* op = "conv2d_backward";
  CLEAVE_CHECK_CONV2D_BACKWARD_POINTERS(op, x, w, y, dy, dw, relu);
  Geometry g;
  if (const int status = check_geometry(op, batch, in_channels, height, width, out_channels, kernel, stride, padding, &g)) return status;
  return backward(choose(g), g, x, w, y, dy, dx, dw, db, relu);
}
