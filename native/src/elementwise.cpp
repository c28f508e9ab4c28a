// Elementwise ops over parameter and activation buffers: dropout_forward/backward,
// weight_penalty and the fused adam_update. Each is a single pass; long ones split over
// OpenMP threads, short ones stay on the caller's thread.
#include <omp.h>
#include <cmath>
#include "cleave_cpu.h"
#include "common.h"

using cleave_shared::dropout_uniform;  // the counter-based uniform every backend shares

extern "C" int cleave_dropout_forward(float* x, float* mask, int64_t n, float p, uint64_t seed,
                                      uint64_t stream) {
  CLEAVE_CHECK_DROPOUT_FORWARD("dropout_forward", x, mask, n, p);
  const float keep = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n > cleave::kParallelMin) num_threads(cleave::team(cleave::threads()))
  for (int64_t i = 0; i < n; ++i) {
    const float m = dropout_uniform(seed, stream, (uint64_t)i) >= p ? keep : 0.0f;
    mask[i] = m;
    x[i] *= m;
  }
  return cleave::ok();
}

extern "C" int cleave_dropout_backward(float* dy, const float* mask, int64_t n) {
  CLEAVE_CHECK_DROPOUT_BACKWARD("dropout_backward", dy, mask, n);
#pragma omp parallel for schedule(static) if (n > cleave::kParallelMin) num_threads(cleave::team(cleave::threads()))
  for (int64_t i = 0; i < n; ++i) dy[i] *= mask[i];
  return cleave::ok();
}

extern "C" int cleave_weight_penalty(const float* w, float* g, int64_t n, float l1, float l2,
                                     double* value) {
  CLEAVE_CHECK_WEIGHT_PENALTY("weight_penalty", w, g, value, n, l1, l2);
  // The sums in parts fixed by the partition (cleave::threads()), added in part order, so the
  // value does not depend on the team.
  const int parts = n > cleave::kParallelMin ? cleave::threads() : 1;
  double s1p[1024], s2p[1024];
  const float two_l2 = 2.0f * l2;
  const int team = cleave::team(parts);
#pragma omp parallel num_threads(team) if (team > 1)
  for (int p = omp_get_thread_num(); p < parts; p += omp_get_num_threads()) {
    const int64_t i0 = n * p / parts, i1 = n * (p + 1) / parts;
    double a1 = 0.0, a2 = 0.0;
    for (int64_t i = i0; i < i1; ++i) {
      const float wi = w[i];
      const float sign = (wi > 0.0f) - (wi < 0.0f);
      g[i] += l1 * sign + two_l2 * wi;
      a1 += std::fabs(wi);
      a2 += (double)wi * wi;
    }
    s1p[p] = a1;
    s2p[p] = a2;
  }
  double s1 = 0.0, s2 = 0.0;
  for (int p = 0; p < parts; ++p) {
    s1 += s1p[p];
    s2 += s2p[p];
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
#pragma omp parallel for schedule(static) if (n > cleave::kParallelMin) num_threads(cleave::team(cleave::threads()))
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
