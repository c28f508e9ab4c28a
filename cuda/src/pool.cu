// maxpool2d_forward / maxpool2d_backward on the GPU (k x k windows, stride, no padding, NCHW).
// Forward: one thread per output (grid-stride), the first maximum in row-major window order
// (a NaN wins), argmax = ih * width + iw within the plane. Backward: one thread per INPUT pixel,
// which sums dy over the windows that contain it and chose it (argmax == its index): a gather,
// so no atomics and a fixed order even where windows overlap. An argmax outside its plane
// matches no pixel (the cpu kernel reports it as an error; Java validates nothing here, the
// argmax comes from maxpool2d_forward).
//
// Timed by cuda/bench/cuda_kernel_bench.cu (command in its header).
#include "common.cuh"

namespace {
constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads)
    maxpool_forward_kernel(const float* x, float* y, int32_t* argmax, int64_t total, int h, int w, int k, int stride,
                           int oh, int ow) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t p = i / ((int64_t)oh * ow);
    const int rem = (int)(i % ((int64_t)oh * ow)), r = rem / ow, c = rem % ow;
    const float* xp = x + p * h * w;
    int at = r * stride * w + c * stride;
    float best = xp[at];
    for (int kh = 0; kh < k; ++kh) {
      const int row = (r * stride + kh) * w + c * stride;
      for (int kw = 0; kw < k; ++kw) {
        const float v = xp[row + kw];
        if (v > best || (isnan(v) && !isnan(best))) {
          best = v;
          at = row + kw;
        }
      }
    }
    y[i] = best;
    argmax[i] = at;
  }
}

__global__ void __launch_bounds__(kThreads)
    maxpool_backward_kernel(const float* dy, const int32_t* argmax, float* dx, int64_t total, int h, int w, int k,
                            int stride, int oh, int ow) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t p = i / ((int64_t)h * w);
    const int idx = (int)(i % ((int64_t)h * w)), ih = idx / w, iw = idx % w;
    // Windows r with r*stride <= ih < r*stride + k, likewise c.
    const int r0 = ih >= k ? (ih - k) / stride + 1 : 0, r1 = ih / stride < oh - 1 ? ih / stride : oh - 1;
    const int c0 = iw >= k ? (iw - k) / stride + 1 : 0, c1 = iw / stride < ow - 1 ? iw / stride : ow - 1;
    float s = 0.0f;
    for (int r = r0; r <= r1; ++r)
      for (int c = c0; c <= c1; ++c) {
        const int64_t o = (p * oh + r) * ow + c;
        if (argmax[o] == idx) s += dy[o];
      }
    dx[i] = s;
  }
}
}  // namespace

extern "C" {
int CLEAVE_CUDA_KERNEL(maxpool2d_forward)(const float* x, float* y, int32_t* argmax, int batch, int channels,
                                          int height, int width, int kernel, int stride) {
  const char* op = "maxpool2d_forward";
  CLEAVE_REQUIRE(op, x && y && argmax, "x, y and argmax must not be null");
  CLEAVE_CHECK_MAXPOOL2D(op, batch, channels, height, width, kernel, stride);
  const int oh = (height - kernel) / stride + 1, ow = (width - kernel) / stride + 1;
  const int64_t total = (int64_t)batch * channels * oh * ow;
  CLEAVE_LAUNCH(op, maxpool_forward_kernel, dim3(cleave_cuda::grid_for(maxpool_forward_kernel, total, kThreads, 65535)), dim3(kThreads), x, y,
                argmax, total, height, width, kernel, stride, oh, ow);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(maxpool2d_backward)(const float* dy, const int32_t* argmax, float* dx, int batch, int channels,
                                           int height, int width, int kernel, int stride) {
  const char* op = "maxpool2d_backward";
  CLEAVE_REQUIRE(op, dy && argmax && dx, "dy, argmax and dx must not be null");
  CLEAVE_CHECK_MAXPOOL2D(op, batch, channels, height, width, kernel, stride);
  const int oh = (height - kernel) / stride + 1, ow = (width - kernel) / stride + 1;
  const int64_t total = (int64_t)batch * channels * height * width;
  CLEAVE_LAUNCH(op, maxpool_backward_kernel, dim3(cleave_cuda::grid_for(maxpool_backward_kernel, total, kThreads, 65535)), dim3(kThreads), dy,
                argmax, dx, total, height, width, kernel, stride, oh, ow);
  return cleave_cuda::ok();
}
}
