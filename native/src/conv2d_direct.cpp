// Direct convolution for conv2d_forward / conv2d_backward (stride 1; see conv2d.cpp for when it
// is chosen): no col matrix, the sums taken straight over a zero-padded copy of the image. For
// layers with few input channels (f21-cnn's first layer: 1 -> 64) im2col's sgemm has an inner
// dimension of only in*k*k (9) and spends its time copying. One image at a time, on the calling
// thread; every inner loop runs over the columns q of an output row (vectorised).
#include <algorithm>
#include <cstring>
#include "conv2d_internal.h"

namespace cleave::conv {
namespace {
inline int padded_h(const Geometry& g) { return g.h + 2 * g.pad; }
inline int padded_w(const Geometry& g) { return g.w + 2 * g.pad; }

// xp (in, h + 2 pad, w + 2 pad) = x_n with zeros around.
void pad_image(const Geometry& g, const float* xn, float* xp) {
  const int hp = padded_h(g), wp = padded_w(g);
  std::memset(xp, 0, sizeof(float) * g.in * hp * wp);
  for (int c = 0; c < g.in; ++c) {
    for (int r = 0; r < g.h; ++r) {
      std::memcpy(xp + ((int64_t)c * hp + r + g.pad) * wp + g.pad, xn + ((int64_t)c * g.h + r) * g.w,
                  sizeof(float) * g.w);
    }
  }
}
}  // namespace

int64_t direct_scratch_floats(const Geometry& g) {
  // The padded image (x, or dx in the backward pass: both at once), one output row of every filter.
  return 2LL * g.in * padded_h(g) * padded_w(g) + (int64_t)g.out * g.ow;
}

void direct_forward_image(const Geometry& g, const float* w, const float* b, int relu, const float* xn, float* yn,
                          float* scratch) {
  const int hp = padded_h(g), wp = padded_w(g), k = g.k, ow = g.ow;
  float* xp = scratch;
  float* acc = xp + (int64_t)g.in * hp * wp;  // (out, ow): output row r of every filter
  pad_image(g, xn, xp);
  const float lo = relu ? 0.0f : -__builtin_inff();
  for (int r = 0; r < g.oh; ++r) {
    for (int o = 0; o < g.out; ++o) {
      const float bo = b ? b[o] : 0.0f;
      std::fill(acc + (int64_t)o * ow, acc + (int64_t)(o + 1) * ow, bo);
    }
    for (int c = 0; c < g.in; ++c) {
      for (int kh = 0; kh < k; ++kh) {
        for (int kw = 0; kw < k; ++kw) {
          const float* __restrict src = xp + ((int64_t)c * hp + r + kh) * wp + kw;
          const float* wk = w + (int64_t)c * k * k + kh * k + kw;
          for (int o = 0; o < g.out; ++o) {
            const float wv = wk[(int64_t)o * g.in * k * k];
            float* __restrict a = acc + (int64_t)o * ow;
#pragma omp simd
            for (int q = 0; q < ow; ++q) a[q] += wv * src[q];
          }
        }
      }
    }
    for (int o = 0; o < g.out; ++o) {
      const float* __restrict a = acc + (int64_t)o * ow;
      float* __restrict dst = yn + ((int64_t)o * g.oh + r) * ow;
#pragma omp simd
      for (int q = 0; q < ow; ++q) dst[q] = std::max(a[q], lo);
    }
  }
}

void direct_backward_image(const Geometry& g, const float* w, const float* xn, const float* dyn, float* dxn, float* dw,
                           float* scratch) {
  const int hp = padded_h(g), wp = padded_w(g), k = g.k, ow = g.ow;
  const int64_t kk = (int64_t)k * k;
  float* xp = scratch;
  float* dxp = xp + (int64_t)g.in * hp * wp;
  pad_image(g, xn, xp);
  if (dxn) std::memset(dxp, 0, sizeof(float) * g.in * hp * wp);
  for (int r = 0; r < g.oh; ++r) {
    for (int c = 0; c < g.in; ++c) {
      for (int kh = 0; kh < k; ++kh) {
        for (int kw = 0; kw < k; ++kw) {
          const int64_t off = ((int64_t)c * hp + r + kh) * wp + kw;
          const float* __restrict src = xp + off;
          float* __restrict dst = dxp + off;
          for (int o = 0; o < g.out; ++o) {
            const float* __restrict d = dyn + ((int64_t)o * g.oh + r) * ow;
            const int64_t wi = ((int64_t)o * g.in + c) * kk + kh * k + kw;
            float s = 0.0f;
#pragma omp simd reduction(+ : s)
            for (int q = 0; q < ow; ++q) s += d[q] * src[q];
            dw[wi] += s;
            if (dxn) {
              const float wv = w[wi];
#pragma omp simd
              for (int q = 0; q < ow; ++q) dst[q] += wv * d[q];
            }
          }
        }
      }
    }
  }
  if (!dxn) return;
  for (int c = 0; c < g.in; ++c) {
    for (int r = 0; r < g.h; ++r) {
      std::memcpy(dxn + ((int64_t)c * g.h + r) * g.w, dxp + ((int64_t)c * hp + r + g.pad) * wp + g.pad,
                  sizeof(float) * g.w);
    }
  }
}

}  // namespace cleave::conv
