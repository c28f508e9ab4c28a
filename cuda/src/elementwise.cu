// Elementwise ops over parameter and activation buffers: dropout_forward/backward,
// weight_penalty and the fused adam_update. Each is one grid-stride pass (memory-bound: 256
// threads per block, one wave of blocks from the occupancy API). weight_penalty's value is a
// two-pass reduction: per-block partial sums in double (as many blocks as n alone decides), then
// one block sums them in a fixed order (sum_pairs). adam_update_multi (the training step's, issue
// 17) updates many tensors in one launch, their pointers passed by value in the kernel's
// parameters, with weight_penalty's gradient folded in: the same float operations per element.
//
// Timed by cuda/bench/cuda_kernel_bench.cu (command in its header).
#include <climits>
#include <cmath>
#include "common.cuh"

namespace {
constexpr int kThreads = 256;
constexpr unsigned kMaxBlocks = 1u << 16;
constexpr int kItemsPerThread = 4;  // weight_penalty: elements per thread before a new partial

using cleave_shared::dropout_uniform;  // native/include/cleave_shared.h: the same bits on every backend

__global__ void __launch_bounds__(kThreads)
    dropout_forward_kernel(float* x, float* mask, int64_t n, float p, float keep, uint64_t seed,
                           uint64_t stream) {
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += stride) {
    const float m = dropout_uniform(seed, stream, (uint64_t)i) >= p ? keep : 0.0f;
    mask[i] = m;
    x[i] *= m;
  }
}

__global__ void __launch_bounds__(kThreads)
    dropout_backward_kernel(float* dy, const float* mask, int64_t n) {
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += stride)
    dy[i] *= mask[i];
}

__global__ void __launch_bounds__(kThreads)
    weight_penalty_kernel(const float* w, float* g, int64_t n, float l1, float two_l2,
                          double2* partials) {
  double s1 = 0.0, s2 = 0.0;
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += stride) {
    const float wi = w[i];
    const float sign = (float)((wi > 0.0f) - (wi < 0.0f));
    g[i] += l1 * sign + two_l2 * wi;
    s1 += fabs((double)wi);
    s2 += (double)wi * wi;
  }
  const double2 s = cleave_cuda::block_sum2<kThreads>(s1, s2);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

__global__ void __launch_bounds__(kThreads)
    adam_update_kernel(float* w, const float* g, float* m, float* v, const float* mask, int64_t n,
                       float step_size, float inv_sqrt_c2, float beta1, float beta2, float a1,
                       float a2, float eps) {
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += stride) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + a1 * gi;
    const float vi = beta2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float wi = w[i] - step_size * mi / (sqrtf(vi) * inv_sqrt_c2 + eps);
    w[i] = (mask && mask[i] == 0.0f) ? 0.0f : wi;  // pruned weights stay +0, as on the cpu
  }
}
// adam_update_multi: up to kMaxTensors tensors per launch, described by value in the kernel's
// parameters (no upload). Block b works on tensor t where first_block[t] <= b < first_block[t + 1],
// on its elements [(b - first_block[t]) * kChunk, + kChunk); each element as adam_update_kernel
// computes it, after weight_penalty's gradient when the tensor has one.
constexpr int kMaxTensors = 24;
constexpr int kChunk = kThreads * 4;

struct AdamTensors {
  float* w[kMaxTensors];
  const float* g[kMaxTensors];
  float* m[kMaxTensors];
  float* v[kMaxTensors];
  const float* mask[kMaxTensors];
  int64_t n[kMaxTensors];
  float l1[kMaxTensors];
  float two_l2[kMaxTensors];
  int first_block[kMaxTensors + 1];
  int count;
};

__global__ void __launch_bounds__(kThreads)
    adam_update_multi_kernel(AdamTensors ts, float step_size, float inv_sqrt_c2, float beta1,
                             float beta2, float a1, float a2, float eps) {
  const int b = (int)blockIdx.x;
  int t = 0;
  while (t + 1 < ts.count && ts.first_block[t + 1] <= b) ++t;
  float* w = ts.w[t];
  const float* g = ts.g[t];
  float* m = ts.m[t];
  float* v = ts.v[t];
  const float* mask = ts.mask[t];
  const float l1 = ts.l1[t], two_l2 = ts.two_l2[t];
  const bool penalty = l1 != 0.0f || two_l2 != 0.0f;
  const int64_t begin = (int64_t)(b - ts.first_block[t]) * kChunk;
  const int64_t end = begin + kChunk < ts.n[t] ? begin + kChunk : ts.n[t];
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) {
    float gi = g[i];
    if (penalty) {
      const float wp = w[i];
      const float sign = (float)((wp > 0.0f) - (wp < 0.0f));
      gi += l1 * sign + two_l2 * wp;  // weight_penalty's g[i] += ..., kept in a register
    }
    const float mi = beta1 * m[i] + a1 * gi;
    const float vi = beta2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float wi = w[i] - step_size * mi / (sqrtf(vi) * inv_sqrt_c2 + eps);
    w[i] = (mask && mask[i] == 0.0f) ? 0.0f : wi;
  }
}
}  // namespace

extern "C" {
int CLEAVE_CUDA_KERNEL(dropout_forward)(float* x, float* mask, int64_t n, float p, uint64_t seed,
                                        uint64_t stream) {
  CLEAVE_CUDA_ENTER("dropout_forward");
  const char* op = "dropout_forward";
  CLEAVE_CHECK_DROPOUT_FORWARD(op, x, mask, n, p);
  if (n == 0) return cleave_cuda::ok();
  const float keep = 1.0f / (1.0f - p);  // as the cpu kernel computes it, so masks match bit for bit
  CLEAVE_LAUNCH(op, dropout_forward_kernel, dim3(cleave_cuda::grid_for(dropout_forward_kernel, n, kThreads, kMaxBlocks)),
                dim3(kThreads), x, mask, n, p, keep, seed, stream);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(dropout_backward)(float* dy, const float* mask, int64_t n) {
  CLEAVE_CUDA_ENTER("dropout_backward");
  const char* op = "dropout_backward";
  CLEAVE_CHECK_DROPOUT_BACKWARD(op, dy, mask, n);
  if (n == 0) return cleave_cuda::ok();
  CLEAVE_LAUNCH(op, dropout_backward_kernel, dim3(cleave_cuda::grid_for(dropout_backward_kernel, n, kThreads, kMaxBlocks)),
                dim3(kThreads), dy, mask, n);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(weight_penalty)(const float* w, float* g, int64_t n, float l1, float l2,
                                       double* value) {
  CLEAVE_CUDA_ENTER("weight_penalty");
  const char* op = "weight_penalty";
  CLEAVE_CHECK_WEIGHT_PENALTY(op, w, g, value, n, l1, l2);
  if (n == 0) {
    *value = 0.0;
    return cleave_cuda::ok();
  }
  // Partials chosen from n alone, so the value is bit-identical on every GPU.
  const unsigned blocks = cleave_cuda::reduce_blocks(n, (int64_t)kThreads * kItemsPerThread);
  void* mem = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(op, sizeof(double2) * (blocks + 1), &mem));
  double2* partials = static_cast<double2*>(mem);
  double2* total = partials + blocks;
  CLEAVE_LAUNCH(op, weight_penalty_kernel, dim3(blocks), dim3(kThreads), w, g, n, l1, 2.0f * l2,
                partials);
  CLEAVE_RETURN_IF(cleave_cuda::sum_pairs(op, partials, (int)blocks, total));
  double2 h;
  CLEAVE_CUDA_TRY(op, cudaMemcpy(&h, total, sizeof h, cudaMemcpyDeviceToHost));
  *value = l1 * h.x + l2 * h.y;
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(adam_update)(float* w, const float* g, float* m, float* v, const float* mask,
                                    int64_t n, float lr, float beta1, float beta2, float eps,
                                    int64_t step) {
  CLEAVE_CUDA_ENTER("adam_update");
  const char* op = "adam_update";
  CLEAVE_CHECK_ADAM_UPDATE(op, w, g, m, v, n, lr, step);
  if (n == 0) return cleave_cuda::ok();
  // The bias corrections in double on the host, exactly as the cpu kernel computes them.
  const double c1 = 1.0 - std::pow((double)beta1, (double)step);
  const double c2 = 1.0 - std::pow((double)beta2, (double)step);
  const float step_size = (float)(lr / c1);
  const float inv_sqrt_c2 = (float)(1.0 / std::sqrt(c2));
  CLEAVE_LAUNCH(op, adam_update_kernel, dim3(cleave_cuda::grid_for(adam_update_kernel, n, kThreads, kMaxBlocks)),
                dim3(kThreads), w, g, m, v, mask, n, step_size, inv_sqrt_c2, beta1, beta2,
                1.0f - beta1, 1.0f - beta2, eps);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(adam_update_multi)(int count, float* const* w, const float* const* g,
                                          float* const* m, float* const* v,
                                          const float* const* mask, const int64_t* n,
                                          const float* l1, const float* l2, float lr, float beta1,
                                          float beta2, float eps, int64_t step) {
  const char* op = "adam_update_multi";
  CLEAVE_CUDA_ENTER(op);
  CLEAVE_REQUIRE(op, count >= 0, "count must be >= 0, got %d", count);
  if (count == 0) return cleave_cuda::ok();
  CLEAVE_REQUIRE(op, w && g && m && v && mask && n && l1 && l2, "the tensor arrays must not be null");
  for (int t = 0; t < count; ++t) {
    CLEAVE_REQUIRE(op, n[t] >= 0, "n must be >= 0, got %lld for tensor %d", (long long)n[t], t);
    if (n[t] > 0) CLEAVE_CHECK_ADAM_UPDATE(op, w[t], g[t], m[t], v[t], n[t], lr, step);
    CLEAVE_REQUIRE(op, l1[t] >= 0.0f && l2[t] >= 0.0f, "l1 and l2 must be >= 0, got %g, %g for tensor %d",
                   l1[t], l2[t], t);
  }
  // The bias corrections in double on the host, exactly as adam_update computes them.
  const double c1 = 1.0 - std::pow((double)beta1, (double)step);
  const double c2 = 1.0 - std::pow((double)beta2, (double)step);
  const float step_size = (float)(lr / c1);
  const float inv_sqrt_c2 = (float)(1.0 / std::sqrt(c2));
  for (int t = 0; t < count;) {
    AdamTensors ts{};
    int64_t blocks = 0;
    ts.count = 0;
    for (; t < count && ts.count < kMaxTensors; ++t) {
      if (n[t] == 0) continue;
      const int k = ts.count++;
      ts.w[k] = w[t];
      ts.g[k] = g[t];
      ts.m[k] = m[t];
      ts.v[k] = v[t];
      ts.mask[k] = mask[t];
      ts.n[k] = n[t];
      ts.l1[k] = l1[t];
      ts.two_l2[k] = 2.0f * l2[t];
      ts.first_block[k] = (int)blocks;
      blocks += (n[t] + kChunk - 1) / kChunk;
      CLEAVE_REQUIRE(op, blocks <= INT_MAX, "the tensors need %lld blocks, more than one launch takes",
                     (long long)blocks);
    }
    if (ts.count == 0) continue;
    ts.first_block[ts.count] = (int)blocks;
    CLEAVE_LAUNCH(op, adam_update_multi_kernel, dim3((unsigned)blocks), dim3(kThreads), ts, step_size,
                  inv_sqrt_c2, beta1, beta2, 1.0f - beta1, 1.0f - beta2, eps);
  }
  return cleave_cuda::ok();
}
}
