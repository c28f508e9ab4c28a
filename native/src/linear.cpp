// linear_forward / linear_backward: the MLP's dense layer. The GEMMs go to OpenBLAS sgemm
// (it wins at these shapes); the bias enters through sgemm's beta (C is pre-filled with the
// bias rows), and the ReLU, its mask and the bias gradient are one pass over the
// (batch x out) block while it is still in cache.
#include <cblas.h>
#include <cmath>
#include <cstring>
#include "cleave_cpu.h"
#include "common.h"

extern "C" int cleave_linear_forward(const float* x, const float* w, const float* b, float* y,
                                     int batch, int in, int out, int relu) {
  CLEAVE_REQUIRE("linear_forward", x && w && y, "x, w and y must not be null");
  CLEAVE_REQUIRE("linear_forward", batch > 0 && in > 0 && out > 0,
                 "batch, in and out must be positive, got %d, %d, %d", batch, in, out);
  float beta = 0.0f;
  if (b) {
    for (int r = 0; r < batch; ++r) std::memcpy(y + (size_t)r * out, b, sizeof(float) * out);
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out, in, 1.0f, x, in, w, in, beta,
              y, out);
  if (relu) {
    const size_t n = (size_t)batch * out;
    for (size_t i = 0; i < n; ++i) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
  }
  return cleave::ok();
}

extern "C" int cleave_linear_backward(const float* x, const float* w, const float* y, float* dy,
                                      float* dx, float* dw, float* db, int batch, int in,
                                      int out, int relu) {
  CLEAVE_REQUIRE("linear_backward", x && w && dy && dw, "x, w, dy and dw must not be null");
  CLEAVE_REQUIRE("linear_backward", !relu || y, "relu backward needs the layer output y");
  CLEAVE_REQUIRE("linear_backward", batch > 0 && in > 0 && out > 0,
                 "batch, in and out must be positive, got %d, %d, %d", batch, in, out);
  // One pass: ReLU mask into dy, column sums into db.
  if (relu || db) {
    if (db) std::memset(db, 0, sizeof(float) * out);
    for (int r = 0; r < batch; ++r) {
      float* dr = dy + (size_t)r * out;
      if (relu) {
        const float* yr = y + (size_t)r * out;
        for (int j = 0; j < out; ++j) dr[j] = yr[j] > 0.0f ? dr[j] : 0.0f;
      }
      if (db)
        for (int j = 0; j < out; ++j) db[j] += dr[j];
    }
  }
  // dw = dy^T x  (out x in)
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, batch, 1.0f, dy, out, x, in, 0.0f,
              dw, in);
  // dx = dy w  (batch x in)
  if (dx)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in, out, 1.0f, dy, out, w, in,
                0.0f, dx, in);
  return cleave::ok();
}
