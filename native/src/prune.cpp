// prune_mask: magnitude pruning (F21's fine-tuning). Selects the round(sparsity * n) smallest
// |w| with nth_element on (|w|, index) keys, so ties break by index exactly as the Java
// reference does, and the count pruned is exact.
#include <algorithm>
#include <cmath>
#include <vector>
#include "cleave_cpu.h"
#include "common.h"

extern "C" int cleave_prune_mask(float* w, float* mask, int64_t n, float sparsity) {
  CLEAVE_REQUIRE("prune_mask", w && mask, "w and mask must not be null");
  CLEAVE_REQUIRE("prune_mask", n >= 0, "n must be >= 0, got %lld", (long long)n);
  CLEAVE_REQUIRE("prune_mask", sparsity >= 0.0f && sparsity <= 1.0f,
                 "sparsity must be in [0, 1], got %g", sparsity);
  const int64_t drop = (int64_t)std::llround((double)sparsity * (double)n);
  for (int64_t i = 0; i < n; ++i) mask[i] = 1.0f;
  if (drop == 0) return cleave::ok();
  std::vector<std::pair<float, int64_t>> keys((size_t)n);
  for (int64_t i = 0; i < n; ++i) {
    CLEAVE_REQUIRE_FINITE("prune_mask", std::isfinite(w[i]), "weight %lld is not finite", (long long)i);
    keys[(size_t)i] = {std::fabs(w[i]), i};
  }
  if (drop < n) std::nth_element(keys.begin(), keys.begin() + drop, keys.end());
  for (int64_t r = 0; r < drop; ++r) {
    const int64_t i = keys[(size_t)r].second;
    mask[i] = 0.0f;
    w[i] = 0.0f;
  }
  return cleave::ok();
}
