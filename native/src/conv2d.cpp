// conv2d_forward / conv2d_backward: the convolutional layer, NCHW, weight (out, in, k, k).
//
// im2col + sgemm, one image at a time per OpenMP thread (images are split into contiguous
// ranges, one per thread; OpenBLAS runs single-threaded inside each, as in linear.cpp): the
// patches of one image become a (in*k*k x outH*outW) matrix `col`, and
//   forward:  y_n (out x outHW)   = W (out x in*k*k) col_n, then bias and ReLU in one pass
//             over y_n while it is in cache;
//   backward: dy_n masked by (y_n > 0) in place, db += row sums of dy_n,
//             dW += dy_n col_n^T into a per-thread partial (summed over threads in thread
//             order at the end, so the result depends on the thread count but not on timing),
//             dcol = W^T dy_n, scattered back into dx_n by col2im.
// A 1x1 kernel with stride 1 and no padding needs no col: x_n is already the matrix.
// The col and dcol buffers and the dW partials are per-thread native buffers, grown on demand
// and reused across calls (no allocation in steady state).
//
// Not done: Winograd F(2x2, 3x3) and a direct variant for 3x3 were not measured yet; this file
// holds the one algorithm. Timed by benchmarks/.../ConvBench.java (command in its header).
#include <cblas.h>
#include <omp.h>
#include <algorithm>
#include <cstring>
#include <vector>
#include "cleave_cpu.h"
#include "common.h"

namespace {
struct Geometry {
  int batch, in, h, w, out, k, stride, pad, oh, ow;
  int64_t patch() const { return (int64_t)in * k * k; }
  int64_t ohw() const { return (int64_t)oh * ow; }
  int64_t in_size() const { return (int64_t)in * h * w; }
  int64_t out_size() const { return (int64_t)out * oh * ow; }
  bool direct() const { return k == 1 && stride == 1 && pad == 0; }
};

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
thread_local std::vector<float> tl_col, tl_dcol, tl_dw, tl_db;

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
}  // namespace

extern "C" int cleave_conv2d_forward(const float* x, const float* w, const float* b, float* y, int batch,
                                     int in_channels, int height, int width, int out_channels, int kernel,
                                     int stride, int padding, int relu) {
  const char* op = "conv2d_forward";
  CLEAVE_CHECK_CONV2D_FORWARD_POINTERS(op, x, w, y);
  Geometry g;
  if (const int status = check_geometry(op, batch, in_channels, height, width, out_channels, kernel, stride, padding, &g)) return status;
  const int parts = std::max(1, std::min(cleave::threads(), batch));
#pragma omp parallel num_threads(parts) if (parts > 1)
  {
    int n0, n1;
    image_range(batch, omp_get_num_threads(), omp_get_thread_num(), &n0, &n1);
    float* col = (n1 > n0 && !g.direct()) ? grow(tl_col, g.patch() * g.ohw()) : nullptr;
    for (int n = n0; n < n1; ++n) {
      const float* xn = x + n * g.in_size();
      float* yn = y + n * g.out_size();
      if (!g.direct()) im2col(g, xn, col);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.out, (int)g.ohw(), (int)g.patch(), 1.0f, w,
                  (int)g.patch(), g.direct() ? xn : col, (int)g.ohw(), 0.0f, yn, (int)g.ohw());
      if (b || relu) {
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
    }
  }
  return cleave::ok();
}

extern "C" int cleave_conv2d_backward(const float* x, const float* w, const float* y, float* dy, float* dx,
                                      float* dw, float* db, int batch, int in_channels, int height, int width,
                                      int out_channels, int kernel, int stride, int padding, int relu) {
  const char* op = "conv2d_backward";
  CLEAVE_CHECK_CONV2D_BACKWARD_POINTERS(op, x, w, y, dy, dw, relu);
  Geometry g;
  if (const int status = check_geometry(op, batch, in_channels, height, width, out_channels, kernel, stride, padding, &g)) return status;
  const int parts = std::max(1, std::min(cleave::threads(), batch));
  const int64_t wsize = g.out * g.patch();
  std::vector<float*> dw_parts(parts, nullptr), db_parts(parts, nullptr);
#pragma omp parallel num_threads(parts) if (parts > 1)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    int n0, n1;
    image_range(batch, nt, t, &n0, &n1);
    float* pdw = grow(tl_dw, wsize);
    float* pdb = grow(tl_db, g.out);
    std::memset(pdw, 0, sizeof(float) * wsize);
    std::memset(pdb, 0, sizeof(float) * g.out);
    dw_parts[t] = pdw;
    db_parts[t] = pdb;
    float* col = (n1 > n0 && !g.direct()) ? grow(tl_col, g.patch() * g.ohw()) : nullptr;
    float* dcol = (n1 > n0 && dx && !g.direct()) ? grow(tl_dcol, g.patch() * g.ohw()) : nullptr;
    for (int n = n0; n < n1; ++n) {
      const float* xn = x + n * g.in_size();
      float* dyn = dy + n * g.out_size();
      for (int o = 0; o < g.out; ++o) {
        float* d = dyn + o * g.ohw();
        if (relu) {
          const float* yo = y + n * g.out_size() + o * g.ohw();
          for (int64_t i = 0; i < g.ohw(); ++i) d[i] = yo[i] > 0.0f ? d[i] : 0.0f;
        }
        float s = 0.0f;
        for (int64_t i = 0; i < g.ohw(); ++i) s += d[i];
        pdb[o] += s;
      }
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
#pragma omp barrier
    // dw and db: the partials summed in thread order, each thread a slice of the entries.
    const int64_t per = (wsize + nt - 1) / nt;
    const int64_t i0 = std::min(wsize, t * per), i1 = std::min(wsize, i0 + per);
    for (int64_t i = i0; i < i1; ++i) {
      float s = dw_parts[0][i];
      for (int p = 1; p < nt; ++p) s += dw_parts[p][i];
      dw[i] = s;
    }
    if (db && t == 0) {
      for (int o = 0; o < g.out; ++o) {
        float s = db_parts[0][o];
        for (int p = 1; p < nt; ++p) s += db_parts[p][o];
        db[o] = s;
      }
    }
  }
  return cleave::ok();
}
