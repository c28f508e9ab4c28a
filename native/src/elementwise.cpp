// Elementwise ops over parameter and activation buffers: dropout_forward/backward,
// weight_penalty and the fused adam_update; and load_batch, the gather of a minibatch's rows.
// Each is a single pass; long ones split over OpenMP threads, short ones stay on the caller's thread.
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include "cleave_cpu.h"
#include "common.h"

using cleave_shared::dropout_uniform;  // the counter-based uniform every backend shares

namespace {
// g + weight_penalty's gradient at w: one expression, shared by weight_penalty and
// adam_update_multi so both round alike.
inline float penalized(float g, float w, float l1, float two_l2) {
  const float sign = (w > 0.0f) - (w < 0.0f);
  return g + (l1 * sign + two_l2 * w);
}

// One element of Adam (adam_update and adam_update_multi).
inline void adam_element(float* w, float gi, float* m, float* v, const float* mask, int64_t i,
                         float step_size, float inv_sqrt_c2, float beta1, float beta2, float a1,
                         float a2, float eps) {
  const float mi = beta1 * m[i] + a1 * gi;
  const float vi = beta2 * v[i] + a2 * gi * gi;
  m[i] = mi;
  v[i] = vi;
  const float wi = w[i] - step_size * mi / (std::sqrt(vi) * inv_sqrt_c2 + eps);
  w[i] = (mask && mask[i] == 0.0f) ? 0.0f : wi;
}

// Adam's constants of one step (adam_update, adam_update_multi).
struct AdamStep {
  float step_size, inv_sqrt_c2, beta1, beta2, a1, a2, eps;
};

// Elements [i0, i1) of one tensor's update, with the penalty's gradient when l1 or two_l2 is not
// 0. Compiled twice and picked at run time: AVX-512 (16 lanes per square root and division, the
// update's bottleneck at 8 lanes) and the x86-64-v3 baseline; both the same operations per
// element (adam_element), so the same bits.
__attribute__((target_clones("avx512f", "default"))) void adam_range(float* w, const float* g, float* m, float* v,
                                                                     const float* mask, int64_t i0, int64_t i1,
                                                                     float l1, float two_l2, AdamStep s) {
  if (l1 != 0.0f || two_l2 != 0.0f) {
    for (int64_t i = i0; i < i1; ++i)
      adam_element(w, penalized(g[i], w[i], l1, two_l2), m, v, mask, i, s.step_size, s.inv_sqrt_c2, s.beta1,
                   s.beta2, s.a1, s.a2, s.eps);
  } else {
    for (int64_t i = i0; i < i1; ++i)
      adam_element(w, g[i], m, v, mask, i, s.step_size, s.inv_sqrt_c2, s.beta1, s.beta2, s.a1, s.a2, s.eps);
  }
}

// Part t of `parts` of n elements, boundaries on multiples of 16 floats.
inline void adam_part(int64_t n, int t, int parts, int64_t* i0, int64_t* i1) {
  const int64_t units = (n + 15) / 16;
  *i0 = std::min(n, units * t / parts * 16);
  *i1 = std::min(n, units * (t + 1) / parts * 16);
}

AdamStep adam_step(float lr, float beta1, float beta2, float eps, int64_t step) {
  const double c1 = 1.0 - std::pow((double)beta1, (double)step);
  const double c2 = 1.0 - std::pow((double)beta2, (double)step);
  return AdamStep{(float)(lr / c1), (float)(1.0 / std::sqrt(c2)), beta1, beta2, 1.0f - beta1, 1.0f - beta2, eps};
}
}  // namespace

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
      g[i] = penalized(g[i], wi, l1, two_l2);
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
  const AdamStep st = adam_step(lr, beta1, beta2, eps, step);
#pragma omp parallel if (n > cleave::kParallelMin) num_threads(cleave::team(cleave::threads()))
  {
    int64_t i0, i1;
    adam_part(n, omp_get_thread_num(), omp_get_num_threads(), &i0, &i1);
    adam_range(w, g, m, v, mask, i0, i1, 0.0f, 0.0f, st);
  }
  return cleave::ok();
}

extern "C" int cleave_adam_update_multi(int count, float* const* w, const float* const* g,
                                        float* const* m, float* const* v,
                                        const float* const* mask, const int64_t* n,
                                        const float* l1, const float* l2, float lr, float beta1,
                                        float beta2, float eps, int64_t step) {
  const char* op = "adam_update_multi";
  CLEAVE_REQUIRE(op, count >= 0, "count must be >= 0, got %d", count);
  if (count == 0) return cleave::ok();
  CLEAVE_REQUIRE(op, w && g && m && v && mask && n && l1 && l2, "the tensor arrays must not be null");
  for (int t = 0; t < count; ++t) {
    CLEAVE_REQUIRE(op, n[t] >= 0, "n must be >= 0, got %lld for tensor %d", (long long)n[t], t);
    if (n[t] > 0) CLEAVE_CHECK_ADAM_UPDATE(op, w[t], g[t], m[t], v[t], n[t], lr, step);
    CLEAVE_REQUIRE(op, l1[t] >= 0.0f && l2[t] >= 0.0f, "l1 and l2 must be >= 0, got %g, %g for tensor %d",
                   l1[t], l2[t], t);
  }
  const AdamStep st = adam_step(lr, beta1, beta2, eps, step);
  // One parallel region for all tensors, each cut into one part per thread (no barrier between
  // tensors: the updates are elementwise and independent), rather than one region per tensor.
  int64_t total = 0;
  for (int t = 0; t < count; ++t) total += n[t];
#pragma omp parallel if (total > cleave::kParallelMin) num_threads(cleave::team(cleave::threads()))
  for (int t = 0; t < count; ++t) {
    int64_t i0, i1;
    adam_part(n[t], omp_get_thread_num(), omp_get_num_threads(), &i0, &i1);
    adam_range(w[t], g[t], m[t], v[t], mask[t], i0, i1, l1[t], 2.0f * l2[t], st);
  }
  return cleave::ok();
}

extern "C" int cleave_load_batch(const float* images, const int32_t* labels, int rows, const int32_t* order,
                                 int first, int batch, int features, float* x, int32_t* y) {
  const char* op = "load_batch";
  CLEAVE_REQUIRE(op, images && labels && x && y, "images, labels, x and y must not be null");
  CLEAVE_REQUIRE(op, batch > 0 && features > 0 && rows > 0 && first >= 0,
                 "batch, features and rows must be positive and first >= 0, got %d, %d, %d, %d", batch, features,
                 rows, first);
  CLEAVE_REQUIRE(op, order || (int64_t)first + batch <= rows, "rows %d .. %d of %d", first, first + batch, rows);
  for (int r = 0; r < batch; ++r) {
    const int32_t idx = order ? order[first + r] : first + r;
    CLEAVE_REQUIRE(op, idx >= 0 && idx < rows, "order[%d] = %d is outside [0, %d)", first + r, idx, rows);
    y[r] = labels[idx];
  }
  // Rows of a shuffled epoch are scattered over the whole set: each copy prefetches the row
  // kAhead rows on. The rows are cut into parts of at least kMinRows, run by the team: a gather on
  // the caller's thread alone left the other threads idle long enough to go to sleep, and the
  // first GEMM of the step then waited for them to wake (measured on 2 cores: README "MLP
  // training").
  constexpr int kAhead = 4, kMinRows = 32;
  const size_t row_bytes = sizeof(float) * (size_t)features;
  const int parts = std::max(1, std::min(cleave::threads(), batch / kMinRows));
  const int team = cleave::team(parts);
#pragma omp parallel num_threads(team) if (team > 1)
  for (int q = omp_get_thread_num(); q < parts; q += omp_get_num_threads()) {
    const int r0 = (int)((int64_t)batch * q / parts), r1 = (int)((int64_t)batch * (q + 1) / parts);
    for (int r = r0; r < r1; ++r) {
      if (r + kAhead < r1) {
        const int32_t ahead = order ? order[first + r + kAhead] : first + r + kAhead;
        const char* p = reinterpret_cast<const char*>(images + (size_t)ahead * features);
        for (size_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(p + b, 0, 0);
      }
      const int32_t idx = order ? order[first + r] : first + r;
      std::memcpy(x + (size_t)r * features, images + (size_t)idx * features, row_bytes);
    }
  }
  return cleave::ok();
}
