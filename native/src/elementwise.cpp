// Elementwise ops over parameter and activation buffers: dropout_forward/backward,
// weight_penalty and the fused adam_update. Each is a single pass; long ones split over
// OpenMP threads, short ones stay on the caller's thread.
#include <cmath>
#include "cleave_cpu.h"
#include "common.h"

using cleave_shared::dropout_uniform;  // the counter-based uniform every backend shares

extern "C" int cleave_dropout_forward(float* x, float* mask, int64_t n, float p, uint64_t seed,
                                      uint64_t stream) {
  CLEAVE_CHECK_DROPOUT_FORWARD("dropout_forward", x, mask, n, p);
  const float keep = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n > cleave::kParallelMin) num_threads(cleave::threads())
  for (int64_t i = 0; i < n; ++i) {
    const float m = dropout_uniform(seed, stream, (uint64_t)i) >= p ? keep : 0.0f;
    mask[i] = m;
    x[i] *= m;
  }
  return cleave::ok();
}

extern "C" int cleave_dropout_backward(float* dy, const float* mask, int64_t n) {
  CLEAVE_CHECK_DROPOUT_BACKWARD("dropout_backward", dy, mask, n);
#pragma omp parallel for schedule(static) if (n > cleave::kParallelMin) num_threads(cleave::threads())
  for (int64_t i = 0; i < n; ++i) dy[i] *= mask[i];
  return cleave::ok();
}

extern "C" int cleave_weight_penalty(const float* w, float* g, int64_t n, float l1, float l2,
                                     double* value) {
  CLEAVE_CHECK_WEIGHT_PENALTY("weight_penalty", w, g, value, n, l1, l2);
  double s1 = 0.0, s2 = 0.0;
  const float two_l2 = 2.0f * l2;
#pragma omp parallel for schedule(static) reduction(+ : s1, s2) if (n > cleave::kParallelMin) num_threads(cleave::threads())
  for (int64_t i = 0; i < n; ++i) {
    const float wi = w[i];
    const float sign = (wi > 0.0f) - (wi < 0.0f);
    g[i] += l1 * sign + two_l2 * wi;
    s1 += std::fabs(wi);
    s2 += (double)wi * wi;
  }
  *value = l1 * s1 + l2 * s2;
  return cleave::ok();
}

extern "C" int cleave_adam_update(float* w, const float* g, float* m, float* v, const float* mask,
                                  int64_t n, float lr, float beta1, float beta2, float eps,
                                  int64_t step) {
  CLEAVE_CHECK_ADAM_UPDATE("adam_update", w, g, m, v, n, lr, step);
  const double c1 = 1.0 - std::pow((double)beta1, (double)step);
  const double c2 = 1.0 - std::pow((double)beta2, (double)step);
  const float step_size = (float)(lr / c1);
  const float inv_sqrt_c2 = (float)(1.0 / std::sqrt(c2));
  const float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
#pragma omp parallel for schedule(static) if (n > cleave::kParallelMin) num_threads(cleave::threads())
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + a1 * gi;
    const float vi = beta2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float wi = w[i] - step_size * mi / (std::sqrt(vi) * inv_sqrt_c2 + eps);
    w[i] = (mask && mask[i] == 0.0f) ? 0.0f : wi;
  }
  return cleave::ok();
}
