// batchnorm2d_forward / batchnorm2d_backward: per-channel batch normalisation of NCHW images as
// torch.nn.BatchNorm2d (affine), in training mode (batch statistics; running statistics updated
// with momentum, the variance unbiased) and in eval mode (running statistics). Channels are
// independent: OpenMP splits them across threads; within a channel the statistics are two
// passes in double (mean, then the sum of squared deviations) in a fixed order, so results do
// not depend on the thread count.
#include <cmath>
#include "cleave_cpu.h"
#include "common.h"

namespace {
int check_bn(const char* op, int batch, int channels, int h, int w) {
  CLEAVE_CHECK_BATCHNORM2D_SHAPE(op, batch, channels, h, w);
  return 0;
}
}  // namespace

extern "C" int cleave_batchnorm2d_forward(const float* x, const float* gamma, const float* beta, float* running_mean,
                                          float* running_var, float* y, float* save_mean, float* save_invstd,
                                          int batch, int channels, int height, int width, int training,
                                          float momentum, float eps) {
  const char* op = "batchnorm2d_forward";
  CLEAVE_REQUIRE(op, x && gamma && beta && running_mean && running_var && y,
                 "x, gamma, beta, running_mean, running_var and y must not be null");
  if (const int status = check_bn(op, batch, channels, height, width)) return status;
  const int64_t hw = (int64_t)height * width, m = (int64_t)batch * hw;
  CLEAVE_CHECK_BATCHNORM2D_FORWARD(op, training, m, momentum, eps);
#pragma omp parallel for schedule(static) num_threads(cleave::team(cleave::threads())) if (m * channels >= cleave::kParallelMin)
  for (int c = 0; c < channels; ++c) {
    double mean, invstd;
    if (training) {
      double sum = 0.0;
      for (int n = 0; n < batch; ++n) {
        const float* xc = x + ((int64_t)n * channels + c) * hw;
        for (int64_t i = 0; i < hw; ++i) sum += xc[i];
      }
      mean = sum / (double)m;
      double sq = 0.0;
      for (int n = 0; n < batch; ++n) {
        const float* xc = x + ((int64_t)n * channels + c) * hw;
        for (int64_t i = 0; i < hw; ++i) {
          const double d = xc[i] - mean;
          sq += d * d;
        }
      }
      const double var = sq / (double)m;
      invstd = 1.0 / std::sqrt(var + (double)eps);
      running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + (double)momentum * mean);
      running_var[c] = (float)((1.0 - momentum) * running_var[c] + (double)momentum * var * (double)m / (double)(m - 1));
    } else {
      mean = running_mean[c];
      invstd = 1.0 / std::sqrt((double)running_var[c] + (double)eps);
    }
    if (save_mean) save_mean[c] = (float)mean;
    if (save_invstd) save_invstd[c] = (float)invstd;
    const float scale = (float)(gamma[c] * invstd), shift = (float)(beta[c] - gamma[c] * invstd * mean);
    for (int n = 0; n < batch; ++n) {
      const int64_t off = ((int64_t)n * channels + c) * hw;
      for (int64_t i = 0; i < hw; ++i) y[off + i] = x[off + i] * scale + shift;
    }
  }
  return cleave::ok();
}

extern "C" int cleave_batchnorm2d_backward(const float* x, const float* gamma, const float* save_mean,
                                           const float* save_invstd, const float* dy, float* dx, float* dgamma,
                                           float* dbeta, int batch, int channels, int height, int width,
                                           int training) {
  const char* op = "batchnorm2d_backward";
  CLEAVE_REQUIRE(op, x && gamma && save_mean && save_invstd && dy && dx && dgamma && dbeta,
                 "x, gamma, save_mean, save_invstd, dy, dx, dgamma and dbeta must not be null");
  if (const int status = check_bn(op, batch, channels, height, width)) return status;
  const int64_t hw = (int64_t)height * width, m = (int64_t)batch * hw;
#pragma omp parallel for schedule(static) num_threads(cleave::team(cleave::threads())) if (m * channels >= cleave::kParallelMin)
  for (int c = 0; c < channels; ++c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    double sdy = 0.0, sdyx = 0.0;
    for (int n = 0; n < batch; ++n) {
      const int64_t off = ((int64_t)n * channels + c) * hw;
      for (int64_t i = 0; i < hw; ++i) {
        sdy += dy[off + i];
        sdyx += dy[off + i] * (x[off + i] - mean);
      }
    }
    const double dg = sdyx * invstd;
    dbeta[c] = (float)sdy;
    dgamma[c] = (float)dg;
    const double k = gamma[c] * invstd;
    for (int n = 0; n < batch; ++n) {
      const int64_t off = ((int64_t)n * channels + c) * hw;
      if (training) {
        // dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat))
        const double a = sdy / (double)m, b = dg / (double)m;
        for (int64_t i = 0; i < hw; ++i) {
          const double xhat = (x[off + i] - mean) * invstd;
          dx[off + i] = (float)(k * (dy[off + i] - a - xhat * b));
        }
      } else {
        for (int64_t i = 0; i < hw; ++i) dx[off + i] = (float)(k * dy[off + i]);
      }
    }
  }
  return cleave::ok();
}
