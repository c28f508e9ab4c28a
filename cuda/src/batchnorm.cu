// batchnorm2d_forward / batchnorm2d_backward on the GPU, as torch.nn.BatchNorm2d (affine; cpu:
// native/src/batchnorm.cpp). Each op is two kernels:
//   bn_stats / bn_grad_stats: one block per channel reduces over (n, h, w) in double (sum and
//     sum of squares, or sum dy and sum dy (x - mean)) with a fixed thread assignment and a
//     fixed-order block reduction, then thread 0 writes the per-channel coefficients to scratch
//     (and the saved statistics, the running statistics, dgamma and dbeta);
//   bn_apply / bn_grad_apply: one thread per element applies them.
// The variance is E[x^2] - mean^2 in double (clamped at 0). Deterministic.
//
// Timed by cuda/bench/cuda_kernel_bench.cu (command in its header).
#include "common.cuh"

namespace {
constexpr int kThreads = 256;

// coef[c] = (scale, shift) with y = x scale + shift.
__global__ void __launch_bounds__(kThreads)
    bn_stats(const float* x, const float* gamma, const float* beta, float* running_mean, float* running_var,
             float* save_mean, float* save_invstd, double2* coef, int batch, int channels, int hw, int training,
             float momentum, float eps) {
  const int c = blockIdx.x;
  const int64_t m = (int64_t)batch * hw;
  double s = 0.0, sq = 0.0;
  if (training) {
    for (int64_t e = threadIdx.x; e < m; e += kThreads) {
      const double v = x[((e / hw) * channels + c) * hw + e % hw];
      s += v;
      sq += v * v;
    }
  }
  const double2 t = cleave_cuda::block_sum2<kThreads>(s, sq);
  if (threadIdx.x != 0) return;
  double mean, invstd;
  if (training) {
    mean = t.x / (double)m;
    double var = t.y / (double)m - mean * mean;
    var = var > 0.0 ? var : 0.0;
    invstd = 1.0 / sqrt(var + (double)eps);
    running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + (double)momentum * mean);
    running_var[c] = (float)((1.0 - momentum) * running_var[c] + (double)momentum * var * (double)m / (double)(m - 1));
  } else {
    mean = running_mean[c];
    invstd = 1.0 / sqrt((double)running_var[c] + (double)eps);
  }
  if (save_mean) save_mean[c] = (float)mean;
  if (save_invstd) save_invstd[c] = (float)invstd;
  coef[c] = make_double2(gamma[c] * invstd, beta[c] - gamma[c] * invstd * mean);
}

__global__ void __launch_bounds__(kThreads)
    bn_apply(const float* x, const double2* coef, float* y, int64_t total, int channels, int hw) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const double2 k = coef[(i / hw) % channels];
    y[i] = x[i] * (float)k.x + (float)k.y;
  }
}

// coef[2c] = (gamma invstd, mean), coef[2c + 1] = (sum dy / m, dgamma / m).
__global__ void __launch_bounds__(kThreads)
    bn_grad_stats(const float* x, const float* gamma, const float* save_mean, const float* save_invstd, const float* dy,
                  float* dgamma, float* dbeta, double2* coef, int batch, int channels, int hw) {
  const int c = blockIdx.x;
  const int64_t m = (int64_t)batch * hw;
  const double mean = save_mean[c], invstd = save_invstd[c];
  double sdy = 0.0, sdyx = 0.0;
  for (int64_t e = threadIdx.x; e < m; e += kThreads) {
    const int64_t at = ((e / hw) * channels + c) * hw + e % hw;
    sdy += dy[at];
    sdyx += (double)dy[at] * ((double)x[at] - mean);
  }
  const double2 t = cleave_cuda::block_sum2<kThreads>(sdy, sdyx);
  if (threadIdx.x != 0) return;
  const double dg = t.y * invstd;
  dbeta[c] = (float)t.x;
  dgamma[c] = (float)dg;
  coef[2 * c] = make_double2(gamma[c] * invstd, mean);
  coef[2 * c + 1] = make_double2(t.x / (double)m, dg / (double)m);
}

__global__ void __launch_bounds__(kThreads)
    bn_grad_apply(const float* x, const float* save_invstd, const float* dy, const double2* coef, float* dx,
                  int64_t total, int channels, int hw, int training) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int c = (int)((i / hw) % channels);
    const double2 k = coef[2 * c];
    if (training) {
      const double2 ab = coef[2 * c + 1];
      const double xhat = ((double)x[i] - k.y) * (double)save_invstd[c];
      dx[i] = (float)(k.x * ((double)dy[i] - ab.x - xhat * ab.y));
    } else {
      dx[i] = (float)(k.x * dy[i]);
    }
  }
}
}  // namespace

extern "C" {
int CLEAVE_CUDA_KERNEL(batchnorm2d_forward)(const float* x, const float* gamma, const float* beta, float* running_mean,
                                            float* running_var, float* y, float* save_mean, float* save_invstd,
                                            int batch, int channels, int height, int width, int training,
                                            float momentum, float eps) {
  const char* op = "batchnorm2d_forward";
  CLEAVE_REQUIRE(op, x && gamma && beta && running_mean && running_var && y,
                 "x, gamma, beta, running_mean, running_var and y must not be null");
  CLEAVE_CHECK_BATCHNORM2D_SHAPE(op, batch, channels, height, width);
  const int hw = height * width;
  CLEAVE_CHECK_BATCHNORM2D_FORWARD(op, training, (int64_t)batch * hw, momentum, eps);
  void* mem = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(op, sizeof(double2) * channels, &mem));
  double2* coef = static_cast<double2*>(mem);
  CLEAVE_LAUNCH(op, bn_stats, dim3(channels), dim3(kThreads), x, gamma, beta, running_mean, running_var, save_mean,
                save_invstd, coef, batch, channels, hw, training, momentum, eps);
  const int64_t total = (int64_t)batch * channels * hw;
  CLEAVE_LAUNCH(op, bn_apply, dim3(cleave_cuda::grid_for(bn_apply, total, kThreads, 65535)), dim3(kThreads), x, coef, y, total,
                channels, hw);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(batchnorm2d_backward)(const float* x, const float* gamma, const float* save_mean,
                                             const float* save_invstd, const float* dy, float* dx, float* dgamma,
                                             float* dbeta, int batch, int channels, int height, int width,
                                             int training) {
  const char* op = "batchnorm2d_backward";
  CLEAVE_REQUIRE(op, x && gamma && save_mean && save_invstd && dy && dx && dgamma && dbeta,
                 "x, gamma, save_mean, save_invstd, dy, dx, dgamma and dbeta must not be null");
  CLEAVE_CHECK_BATCHNORM2D_SHAPE(op, batch, channels, height, width);
  const int hw = height * width;
  void* mem = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(op, sizeof(double2) * 2 * channels, &mem));
  double2* coef = static_cast<double2*>(mem);
  CLEAVE_LAUNCH(op, bn_grad_stats, dim3(channels), dim3(kThreads), x, gamma, save_mean, save_invstd, dy, dgamma, dbeta,
                coef, batch, channels, hw);
  const int64_t total = (int64_t)batch * channels * hw;
  CLEAVE_LAUNCH(op, bn_grad_apply, dim3(cleave_cuda::grid_for(bn_grad_apply, total, kThreads, 65535)), dim3(kThreads), x, save_invstd,
                dy, coef, dx, total, channels, hw, training);
  return cleave_cuda::ok();
}
}
