// softmax_xent: softmax cross-entropy, loss and gradient in one pass per row; softmax_xent_record,
// the same rows with the results written into a record instead of failing on a bad row.
#include <cmath>
#include "cleave_cpu.h"
#include "common.h"

namespace {
enum RowStatus { kRowOk = 0, kRowBadLabel = 1, kRowNonFinite = 2 };

// Row r: adds its loss to *total and its hit to *hits and writes its dlogits (unless NULL), or
// returns what is wrong with it (a bad label first) having written nothing.
inline RowStatus xent_row(const float* logits, const int32_t* labels, float* dlogits, int r, int classes,
                          float grad_scale, double* total, int32_t* hits) {
  const float* z = logits + (size_t)r * classes;
  const int32_t label = labels[r];
  if (!(label >= 0 && label < classes)) return kRowBadLabel;
  float mx = z[0];
  int arg = 0;
  for (int j = 1; j < classes; ++j)
    if (z[j] > mx) { mx = z[j]; arg = j; }
  if (!std::isfinite(mx)) return kRowNonFinite;
  double sum = 0.0;
  for (int j = 0; j < classes; ++j) sum += std::exp((double)(z[j] - mx));
  if (!std::isfinite(sum)) return kRowNonFinite;
  *total += std::log(sum) + mx - z[label];
  *hits += (arg == label);
  if (dlogits) {
    float* d = dlogits + (size_t)r * classes;
    const double inv = 1.0 / sum;
    for (int j = 0; j < classes; ++j)
      d[j] = (float)(std::exp((double)(z[j] - mx)) * inv) * grad_scale;
    d[label] -= grad_scale;
  }
  return kRowOk;
}
}  // namespace

extern "C" int cleave_softmax_xent(const float* logits, const int32_t* labels, float* dlogits,
                                   int batch, int classes, float grad_scale, double* loss_sum,
                                   int32_t* correct) {
  CLEAVE_CHECK_SOFTMAX_XENT("softmax_xent", logits, labels, loss_sum, correct, batch, classes);
  double total = 0.0;
  int32_t hits = 0;
  for (int r = 0; r < batch; ++r) {
    const RowStatus st = xent_row(logits, labels, dlogits, r, classes, grad_scale, &total, &hits);
    CLEAVE_REQUIRE("softmax_xent", st != kRowBadLabel, "label %d of row %d is outside [0, %d)", labels[r], r,
                   classes);
    CLEAVE_REQUIRE_FINITE("softmax_xent", st != kRowNonFinite, CLEAVE_NONFINITE_LOGIT_MESSAGE, r);
  }
  *loss_sum = total;
  *correct = hits;
  return cleave::ok();
}

extern "C" int cleave_softmax_xent_record(const float* logits, const int32_t* labels, float* dlogits,
                                          int batch, int classes, float grad_scale, double* record) {
  const char* op = "softmax_xent_record";
  CLEAVE_REQUIRE(op, logits && labels && record, "logits, labels and record must not be null");
  CLEAVE_REQUIRE(op, batch > 0 && classes > 0, "batch and classes must be positive, got %d, %d", batch, classes);
  double total = 0.0;
  int32_t hits = 0;
  int bad_label = -1, nonfinite = -1;
  for (int r = 0; r < batch; ++r) {
    const RowStatus st = xent_row(logits, labels, dlogits, r, classes, grad_scale, &total, &hits);
    if (st == kRowOk) continue;
    if (dlogits)
      for (int j = 0; j < classes; ++j) dlogits[(size_t)r * classes + j] = 0.0f;
    if (st == kRowBadLabel && bad_label < 0) bad_label = r;
    if (st == kRowNonFinite && nonfinite < 0) nonfinite = r;
  }
  record[0] = total;
  record[1] = hits;
  record[2] = bad_label;
  record[3] = bad_label < 0 ? 0.0 : labels[bad_label];
  record[4] = nonfinite;
  return cleave::ok();
}
