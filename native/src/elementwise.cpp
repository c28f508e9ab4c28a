// Elementwise ops over parameter and activation buffers: dropout_forward/backward,
// weight_penalty and the fused adam_update. Each is a single pass; long ones split over
// OpenMP threads, short ones stay on the caller's thread.
#include <cmath>
#include "cleave_cpu.h"
#include "common.h"

namespace {
// Counter-based uniform in [0, 1) with 24 random bits; dev.cleave.nn.Rng.uniform is the
// same function in Java, so every backend draws the same dropout masks.
inline float uniform(uint64_t seed, uint64_t stream, uint64_t i) {
  uint64_t z = seed ^ (stream * 0x9E3779B97F4A7C15ULL);
  z += (i + 1) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (float)(z >> 40) * (1.0f / 16777216.0f);
}
}  // namespace

extern "C" int cleave_dropout_forward(float* x, float* mask, int64_t n, float p, uint64_t seed,
                                      uint64_t stream) {
  CLEAVE_REQUIRE("dropout_forward", x && mask, "x and mask must not be null");
  CLEAVE_REQUIRE("dropout_forward", n >= 0, "n must be >= 0, got %lld", (long long)n);
  CLEAVE_REQUIRE("dropout_forward", p >= 0.0f && p < 1.0f, "p must be in [0, 1), got %g", p);
  const float keep = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n > cleave::kParallelMin) num_threads(cleave::threads())
  for (int64_t i = 0; i < n; ++i) {
    const float m = uniform(seed, stream, (uint64_t)i) >= p ? keep : 0.0f;
    mask[i] = m;
    x[i] *= m;
  }
  return cleave::ok();
}

extern "C" int cleave_dropout_backward(float* dy, const float* mask, int64_t n) {
  CLEAVE_REQUIRE("dropout_backward", dy && mask, "dy and mask must not be null");
  CLEAVE_REQUIRE("dropout_backward", n >= 0, "n must be >= 0, got %lld", (long long)n);
#pragma omp parallel for schedule(static) if (n > cleave::kParallelMin) num_threads(cleave::threads())
  for (int64_t i = 0; i < n; ++i) dy[i] *= mask[i];
  return cleave::ok();
}

extern "C" int cleave_weight_penalty(const float* w, float* g, int64_t n, float l1, float l2,
                                     double* value) {
  CLEAVE_REQUIRE("weight_penalty", w && g && value, "w, g and value must not be null");
  CLEAVE_REQUIRE("weight_penalty", n >= 0, "n must be >= 0, got %lld", (long long)n);
  CLEAVE_REQUIRE("weight_penalty", l1 >= 0.0f && l2 >= 0.0f, "l1 and l2 must be >= 0, got %g, %g", l1, l2);
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
  CLEAVE_REQUIRE("adam_update", w && g && m && v, "w, g, m and v must not be null");
  CLEAVE_REQUIRE("adam_update", n >= 0, "n must be >= 0, got %lld", (long long)n);
  CLEAVE_REQUIRE("adam_update", step >= 1, "step must be >= 1, got %lld", (long long)step);
  CLEAVE_REQUIRE("adam_update", lr > 0.0f && std::isfinite(lr), "lr must be positive, got %g", lr);
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
