// softmax_xent: softmax cross-entropy, loss and gradient in one pass per row.
#include <cmath>
#include "cleave_cpu.h"
#include "common.h"

extern "C" int cleave_softmax_xent(const float* logits, const int32_t* labels, float* dlogits,
                                   int batch, int classes, float grad_scale, double* loss_sum,
                                   int32_t* correct) {
  CLEAVE_CHECK_SOFTMAX_XENT("softmax_xent", logits, labels, loss_sum, correct, batch, classes);
  double total = 0.0;
  int32_t hits = 0;
  for (int r = 0; r < batch; ++r) {
    const float* z = logits + (size_t)r * classes;
    const int32_t label = labels[r];
    CLEAVE_REQUIRE("softmax_xent", label >= 0 && label < classes,
                   "label %d of row %d is outside [0, %d)", label, r, classes);
    float mx = z[0];
    int arg = 0;
    for (int j = 1; j < classes; ++j)
      if (z[j] > mx) { mx = z[j]; arg = j; }
    CLEAVE_REQUIRE_FINITE("softmax_xent", std::isfinite(mx), CLEAVE_NONFINITE_LOGIT_MESSAGE, r);
    double sum = 0.0;
    for (int j = 0; j < classes; ++j) sum += std::exp((double)(z[j] - mx));
    CLEAVE_REQUIRE_FINITE("softmax_xent", std::isfinite(sum), CLEAVE_NONFINITE_LOGIT_MESSAGE, r);
    total += std::log(sum) + mx - z[label];
    hits += (arg == label);
    if (dlogits) {
      float* d = dlogits + (size_t)r * classes;
      const double inv = 1.0 / sum;
      for (int j = 0; j < classes; ++j)
        d[j] = (float)(std::exp((double)(z[j] - mx)) * inv) * grad_scale;
      d[label] -= grad_scale;
    }
  }
  *loss_sum = total;
  *correct = hits;
  return cleave::ok();
}
