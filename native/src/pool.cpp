// maxpool2d_forward / maxpool2d_backward: max pooling over k x k windows with a stride, no
// padding, NCHW. Planes (n, c) are independent: OpenMP splits them across threads when there is
// enough work. The forward pass records, per output, the index ih * width + iw of the window's
// maximum within its plane (first maximum in row-major window order; a NaN wins, as in
// PyTorch); the backward pass zeroes dx and adds each dy at its argmax, after checking every
// argmax lies inside its plane.
#include <algorithm>
#include <cmath>
#include <cstring>
#include "cleave_cpu.h"
#include "common.h"

namespace {
int check_pool(const char* op, int batch, int channels, int h, int w, int k, int stride) {
  CLEAVE_CHECK_MAXPOOL2D(op, batch, channels, h, w, k, stride);
  return 0;
}
}  // namespace

extern "C" int cleave_maxpool2d_forward(const float* x, float* y, int32_t* argmax, int batch, int channels,
                                        int height, int width, int kernel, int stride) {
  const char* op = "maxpool2d_forward";
  CLEAVE_REQUIRE(op, x && y && argmax, "x, y and argmax must not be null");
  if (const int status = check_pool(op, batch, channels, height, width, kernel, stride)) return status;
  const int oh = (height - kernel) / stride + 1, ow = (width - kernel) / stride + 1;
  const int64_t planes = (int64_t)batch * channels, plane_in = (int64_t)height * width, plane_out = (int64_t)oh * ow;
#pragma omp parallel for schedule(static) num_threads(cleave::team(cleave::threads())) if (planes * plane_in >= cleave::kParallelMin)
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * plane_in;
    float* yp = y + p * plane_out;
    int32_t* ap = argmax + p * plane_out;
    if (kernel == 2 && stride == 2) {
      // The common 2x2 / 2 case with selects instead of branches, vectorised over the windows
      // of a row (the same result as the general loop below: first maximum, NaN wins).
      for (int r = 0; r < oh; ++r) {
        const float* x0 = xp + (int64_t)2 * r * width;
        const float* x1 = x0 + width;
        const int base = 2 * r * width;
#pragma omp simd
        for (int c = 0; c < ow; ++c) {
          float best = x0[2 * c];
          int at = base + 2 * c;
          const float cand[3] = {x0[2 * c + 1], x1[2 * c], x1[2 * c + 1]};
          const int where[3] = {base + 2 * c + 1, base + width + 2 * c, base + width + 2 * c + 1};
          for (int i = 0; i < 3; ++i) {
            const bool take = cand[i] > best || (cand[i] != cand[i] && best == best);
            best = take ? cand[i] : best;
            at = take ? where[i] : at;
          }
          yp[r * ow + c] = best;
          ap[r * ow + c] = at;
        }
      }
      continue;
    }
    for (int r = 0; r < oh; ++r) {
      for (int c = 0; c < ow; ++c) {
        int at = r * stride * width + c * stride;
        float best = xp[at];
        for (int kh = 0; kh < kernel; ++kh) {
          const int row = (r * stride + kh) * width + c * stride;
          for (int kw = 0; kw < kernel; ++kw) {
            const float v = xp[row + kw];
            if (v > best || (std::isnan(v) && !std::isnan(best))) {
              best = v;
              at = row + kw;
            }
          }
        }
        yp[r * ow + c] = best;
        ap[r * ow + c] = at;
      }
    }
  }
  return cleave::ok();
}

extern "C" int cleave_maxpool2d_backward(const float* dy, const int32_t* argmax, float* dx, int batch, int channels,
                                         int height, int width, int kernel, int stride) {
  const char* op = "maxpool2d_backward";
  CLEAVE_REQUIRE(op, dy && argmax && dx, "dy, argmax and dx must not be null");
  if (const int status = check_pool(op, batch, channels, height, width, kernel, stride)) return status;
  const int oh = (height - kernel) / stride + 1, ow = (width - kernel) / stride + 1;
  const int64_t planes = (int64_t)batch * channels, plane_in = (int64_t)height * width, plane_out = (int64_t)oh * ow;
  int64_t bad = -1;
  for (int64_t i = 0; i < planes * plane_out && bad < 0; ++i)
    if (argmax[i] < 0 || argmax[i] >= plane_in) bad = i;
  CLEAVE_REQUIRE(op, bad < 0, "argmax[%lld] = %d is outside the %dx%d plane: pass the argmax of maxpool2d_forward",
                 (long long)bad, bad < 0 ? 0 : argmax[bad], height, width);
#pragma omp parallel for schedule(static) num_threads(cleave::team(cleave::threads())) if (planes * plane_in >= cleave::kParallelMin)
  for (int64_t p = 0; p < planes; ++p) {
    float* dxp = dx + p * plane_in;
    std::memset(dxp, 0, sizeof(float) * plane_in);
    const float* dyp = dy + p * plane_out;
    const int32_t* ap = argmax + p * plane_out;
    for (int64_t j = 0; j < plane_out; ++j) dxp[ap[j]] += dyp[j];
  }
  return cleave::ok();
}
