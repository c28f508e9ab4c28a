// linear_forward / linear_backward: the MLP's dense layer.
//
// The GEMMs go to single-threaded OpenBLAS sgemm (it wins at these shapes); the parallelism is
// ours: the output is cut into slabs (columns of y for the forward pass, rows of dw and columns
// of dx for the backward pass), as many as the threads set (cleave_set_threads) and the shape
// allow, whatever the team running them (common.h); each slab is one sgemm and its epilogue
// while the slab is in cache, taken in turn by the team's threads. Batch-128 GEMMs are too small for OpenBLAS's own threading to pay on two
// cores (measured: 2 OpenBLAS threads ran a training step slower than 1), while independent
// slabs need no synchronisation inside the GEMM. The bias enters through sgemm's beta (the slab
// is pre-filled with the bias); ReLU, its mask and the bias gradient are one pass over a slab.
#include <cblas.h>
#include <omp.h>
#include <algorithm>
#include <cstring>
#include "cleave_cpu.h"
#include "common.h"

namespace {
// Slabs narrower than this are not worth a thread.
constexpr int kMinSlab = 64;

// Columns [begin, end) of `n` for part t of `parts`, boundaries on multiples of 16 floats.
inline void slab(int n, int parts, int t, int* begin, int* end) {
  const int unit = 16;
  const int units = (n + unit - 1) / unit;
  const int per = units / parts, extra = units % parts;
  const int b = t * per + std::min(t, extra);
  const int e = b + per + (t < extra ? 1 : 0);
  *begin = std::min(n, b * unit);
  *end = std::min(n, e * unit);
}

inline int parts_for(int n) {
  return std::max(1, std::min(cleave::threads(), n / kMinSlab));
}

// y[:, j0:j1] = x w[j0:j1, :]^T + b[j0:j1], then ReLU, then (when mask is not NULL) dropout_forward's
// mask and scaling of these entries: the same values as its pass over all of y.
void forward_slab(const float* x, const float* w, const float* b, float* y, int batch, int in, int out,
                  int relu, int j0, int j1, float* mask, float p, uint64_t seed, uint64_t stream) {
  const int width = j1 - j0;
  if (width <= 0) return;
  float beta = 0.0f;
  if (b) {
    for (int r = 0; r < batch; ++r) std::memcpy(y + (size_t)r * out + j0, b + j0, sizeof(float) * width);
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, width, in, 1.0f, x, in, w + (size_t)j0 * in, in,
              beta, y + j0, out);
  if (relu) {
    for (int r = 0; r < batch; ++r) {
      float* yr = y + (size_t)r * out;
      for (int j = j0; j < j1; ++j) yr[j] = yr[j] > 0.0f ? yr[j] : 0.0f;
    }
  }
  if (mask) {
    const float keep = 1.0f / (1.0f - p);
    for (int r = 0; r < batch; ++r) {
      const size_t row = (size_t)r * out;
      for (int j = j0; j < j1; ++j) {
        const float m = cleave_shared::dropout_uniform(seed, stream, (uint64_t)(row + j)) >= p ? keep : 0.0f;
        mask[row + j] = m;
        y[row + j] *= m;
      }
    }
  }
}

int linear_forward_masked(const float* x, const float* w, const float* b, float* y, int batch, int in, int out,
                          int relu, float* mask, float p, uint64_t seed, uint64_t stream) {
  const int parts = parts_for(out);
  const int team = cleave::team(parts);
#pragma omp parallel num_threads(team) if (team > 1)
  for (int q = omp_get_thread_num(); q < parts; q += omp_get_num_threads()) {
    int j0, j1;
    slab(out, parts, q, &j0, &j1);
    forward_slab(x, w, b, y, batch, in, out, relu, j0, j1, mask, p, seed, stream);
  }
  return cleave::ok();
}

// ReLU mask into dy[:, j0:j1] and db[j0:j1] = column sums, then dw[j0:j1, :] = dy[:, j0:j1]^T x.
void backward_w_slab(const float* x, const float* y, float* dy, float* dw, float* db, int batch, int in, int out,
                     int relu, int j0, int j1) {
  const int width = j1 - j0;
  if (width <= 0) return;
  if (db) std::memset(db + j0, 0, sizeof(float) * width);
  if (relu || db) {
    for (int r = 0; r < batch; ++r) {
      float* dr = dy + (size_t)r * out;
      if (relu) {
        const float* yr = y + (size_t)r * out;
        for (int j = j0; j < j1; ++j) dr[j] = yr[j] > 0.0f ? dr[j] : 0.0f;
      }
      if (db)
        for (int j = j0; j < j1; ++j) db[j] += dr[j];
    }
  }
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, width, in, batch, 1.0f, dy + j0, out, x, in, 0.0f,
              dw + (size_t)j0 * in, in);
}

// dx[:, i0:i1] = dy w[:, i0:i1], then (the epilogue, while the slab is in cache) times x_mask
// when given, then 0 where x <= 0 when relu_x: linear_dropout_backward's masking, element for
// element the same operations as a pass over all of dx.
void backward_x_slab(const float* w, const float* dy, float* dx, int batch, int in, int out, int i0, int i1,
                     const float* x, const float* x_mask, int relu_x) {
  if (i1 <= i0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, i1 - i0, out, 1.0f, dy, out, w + i0, in, 0.0f,
              dx + i0, in);
  if (!x_mask && !relu_x) return;
  for (int r = 0; r < batch; ++r) {
    float* dr = dx + (size_t)r * in;
    if (x_mask) {
      const float* mr = x_mask + (size_t)r * in;
      for (int i = i0; i < i1; ++i) dr[i] *= mr[i];
    }
    if (relu_x) {
      const float* xr = x + (size_t)r * in;
      for (int i = i0; i < i1; ++i) dr[i] = xr[i] > 0.0f ? dr[i] : 0.0f;
    }
  }
}

// linear_backward, with linear_dropout_backward's masking of dx in the dx slabs' epilogue.
int linear_backward_masked(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw,
                           float* db, int batch, int in, int out, int relu, const float* x_mask, int relu_x) {
  // dW (and the ReLU mask of dy) in wparts column slabs, then, after a barrier, dx in xparts.
  const int wparts = parts_for(out), xparts = dx ? parts_for(in) : 1;
  const int team = cleave::team(std::max(wparts, xparts));
#pragma omp parallel num_threads(team) if (team > 1)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    for (int p = t; p < wparts; p += n) {
      int j0, j1;
      slab(out, wparts, p, &j0, &j1);
      backward_w_slab(x, y, dy, dw, db, batch, in, out, relu, j0, j1);
    }
    if (dx) {
#pragma omp barrier
      for (int p = t; p < xparts; p += n) {
        int i0, i1;
        slab(in, xparts, p, &i0, &i1);
        backward_x_slab(w, dy, dx, batch, in, out, i0, i1, x, x_mask, relu_x);
      }
    }
  }
  return cleave::ok();
}
}  // namespace

extern "C" int cleave_linear_forward(const float* x, const float* w, const float* b, float* y,
                                     int batch, int in, int out, int relu) {
  CLEAVE_CHECK_LINEAR_FORWARD("linear_forward", x, w, y, batch, in, out);
  return linear_forward_masked(x, w, b, y, batch, in, out, relu, nullptr, 0.0f, 0, 0);
}

extern "C" int cleave_linear_backward(const float* x, const float* w, const float* y, float* dy,
                                      float* dx, float* dw, float* db, int batch, int in, int out,
                                      int relu) {
  CLEAVE_CHECK_LINEAR_BACKWARD("linear_backward", x, w, y, dy, dw, batch, in, out, relu);
  return linear_backward_masked(x, w, y, dy, dx, dw, db, batch, in, out, relu, nullptr, 0);
}

// The fused ops of the training step (cuda/include/cleave_cuda_ops.h): on the cpu the unfused
// kernels in sequence (the dropout of linear_dropout_forward in the epilogue of the forward slabs,
// the dx masking of linear_dropout_backward in that of the dx slabs: the same operations per element), which is what the CUDA versions compute bit for bit in one launch.
extern "C" int cleave_linear_dropout_forward(const float* x, const float* w, const float* b, float* y,
                                             float* mask, int batch, int in, int out, int relu, float p,
                                             uint64_t seed, uint64_t stream) {
  const char* op = "linear_dropout_forward";
  CLEAVE_CHECK_LINEAR_FORWARD(op, x, w, y, batch, in, out);
  CLEAVE_REQUIRE(op, !mask || (p >= 0.0f && p < 1.0f), "p must be in [0, 1), got %g", p);
  return linear_forward_masked(x, w, b, y, batch, in, out, relu, mask, p, seed, stream);
}

extern "C" int cleave_linear_dropout_backward(const float* x, const float* w, const float* x_mask,
                                              const float* dy, float* dx, float* dw, float* db, int batch,
                                              int in, int out, int relu_x) {
  const char* op = "linear_dropout_backward";
  CLEAVE_REQUIRE(op, x && w && dy && dw, "x, w, dy and dw must not be null");
  CLEAVE_REQUIRE(op, batch > 0 && in > 0 && out > 0, "batch, in and out must be positive, got %d, %d, %d", batch,
                 in, out);
  // relu = 0: dy stays as it is; the dx slabs are masked as they are written.
  return linear_backward_masked(x, w, nullptr, const_cast<float*>(dy), dx, dw, db, batch, in, out, 0,
                                dx ? x_mask : nullptr, dx ? relu_x : 0);
}
