// Code shared by the cpu kernels (native/src) and the CUDA kernels (cuda/src, also compiled
// into the emulator): the recorders of the last error, the status-returning checks and the
// dropout random numbers. Internal: not part of the C ABI, never included by Java bindings.
//
// Before including it, a translation unit defines CLEAVE_FAIL(status, op, file, line, fmt, ...)
// as its library's recorder of the last error (native/src/common.h: cleave::fail,
// cuda/src/common.cuh: cleave_cuda::fail, both defined by CLEAVE_DEFINE_ERROR_RECORDERS below);
// the checks below then return the status from the calling function with the message recorded,
// naming the call site's file and line.
#ifndef CLEAVE_SHARED_H
#define CLEAVE_SHARED_H
#include <stdint.h>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include "cleave_status.h"

#ifndef CLEAVE_FAIL
#error "define CLEAVE_FAIL before including cleave_shared.h (see its header comment)"
#endif

#ifdef __CUDACC__
#define CLEAVE_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define CLEAVE_HOST_DEVICE inline
#endif

// Returns `status` from the calling function, with "op: message (file:line)" recorded, unless cond.
#define CLEAVE_REQUIRE_STATUS(status, op, cond, ...) \
  do { if (!(cond)) return CLEAVE_FAIL(status, op, __FILE__, __LINE__, __VA_ARGS__); } while (0)
// A bad argument (CLEAVE_INVALID_ARGUMENT).
#define CLEAVE_REQUIRE(op, cond, ...) CLEAVE_REQUIRE_STATUS(CLEAVE_INVALID_ARGUMENT, op, cond, __VA_ARGS__)
// Numbers that went bad in well-formed input (CLEAVE_NUMERIC_FAILURE): a diverged network.
#define CLEAVE_REQUIRE_FINITE(op, cond, ...) CLEAVE_REQUIRE_STATUS(CLEAVE_NUMERIC_FAILURE, op, cond, __VA_ARGS__)

// Returns a nonzero status from a helper that already recorded its error, as it is.
#define CLEAVE_RETURN_IF(status)          \
  do {                                    \
    const int cleave_s_ = (status);       \
    if (cleave_s_ != 0) return cleave_s_; \
  } while (0)

// The message of a non-finite logit in softmax_xent, the same on every backend.
#define CLEAVE_NONFINITE_LOGIT_MESSAGE \
  "row %d has a non-finite logit (the network diverged: lower the learning rate)"
// The message of a non-finite sum of squared weights in enmeshment.
#define CLEAVE_NONFINITE_WEIGHTS_MESSAGE                                           \
  "the sum of squared weights is not finite: w holds NaN or infinite values, or " \
  "weights beyond 1e19 (the network diverged: lower the learning rate)"

// ---- argument checks of the ops both libraries implement (same order, same messages) ----
#define CLEAVE_CHECK_LINEAR_FORWARD(op, x, w, y, batch, in, out)                  \
  do {                                                                            \
    CLEAVE_REQUIRE(op, (x) && (w) && (y), "x, w and y must not be null");         \
    CLEAVE_REQUIRE(op, (batch) > 0 && (in) > 0 && (out) > 0,                      \
                   "batch, in and out must be positive, got %d, %d, %d", batch, in, out); \
  } while (0)

#define CLEAVE_CHECK_LINEAR_BACKWARD(op, x, w, y, dy, dw, batch, in, out, relu)   \
  do {                                                                            \
    CLEAVE_REQUIRE(op, (x) && (w) && (dy) && (dw), "x, w, dy and dw must not be null"); \
    CLEAVE_REQUIRE(op, !(relu) || (y), "relu backward needs the layer output y"); \
    CLEAVE_REQUIRE(op, (batch) > 0 && (in) > 0 && (out) > 0,                      \
                   "batch, in and out must be positive, got %d, %d, %d", batch, in, out); \
  } while (0)

#define CLEAVE_CHECK_SOFTMAX_XENT(op, logits, labels, loss_sum, correct, batch, classes) \
  do {                                                                            \
    CLEAVE_REQUIRE(op, (logits) && (labels) && (loss_sum) && (correct),           \
                   "logits, labels, loss_sum and correct must not be null");      \
    CLEAVE_REQUIRE(op, (batch) > 0 && (classes) > 0,                              \
                   "batch and classes must be positive, got %d, %d", batch, classes); \
  } while (0)

#define CLEAVE_CHECK_DROPOUT_FORWARD(op, x, mask, n, p)                           \
  do {                                                                            \
    CLEAVE_REQUIRE(op, (x) && (mask), "x and mask must not be null");             \
    CLEAVE_REQUIRE(op, (n) >= 0, "n must be >= 0, got %lld", (long long)(n));     \
    CLEAVE_REQUIRE(op, (p) >= 0.0f && (p) < 1.0f, "p must be in [0, 1), got %g", p); \
  } while (0)

#define CLEAVE_CHECK_DROPOUT_BACKWARD(op, dy, mask, n)                            \
  do {                                                                            \
    CLEAVE_REQUIRE(op, (dy) && (mask), "dy and mask must not be null");           \
    CLEAVE_REQUIRE(op, (n) >= 0, "n must be >= 0, got %lld", (long long)(n));     \
  } while (0)

#define CLEAVE_CHECK_WEIGHT_PENALTY(op, w, g, value, n, l1, l2)                   \
  do {                                                                            \
    CLEAVE_REQUIRE(op, (w) && (g) && (value), "w, g and value must not be null"); \
    CLEAVE_REQUIRE(op, (n) >= 0, "n must be >= 0, got %lld", (long long)(n));     \
    CLEAVE_REQUIRE(op, (l1) >= 0.0f && (l2) >= 0.0f, "l1 and l2 must be >= 0, got %g, %g", l1, l2); \
  } while (0)

#define CLEAVE_CHECK_ADAM_UPDATE(op, w, g, m, v, n, lr, step)                     \
  do {                                                                            \
    CLEAVE_REQUIRE(op, (w) && (g) && (m) && (v), "w, g, m and v must not be null"); \
    CLEAVE_REQUIRE(op, (n) >= 0, "n must be >= 0, got %lld", (long long)(n));     \
    CLEAVE_REQUIRE(op, (step) >= 1, "step must be >= 1, got %lld", (long long)(step)); \
    CLEAVE_REQUIRE(op, (lr) > 0.0f && std::isfinite(lr), "lr must be positive, got %g", lr); \
  } while (0)

// enmeshment: pointers, sizes, slice >= 1, k in [1, max_k] and a finite scale (labels are checked
// by each library where its labels live: the cpu in a loop, CUDA in a kernel).
#define CLEAVE_CHECK_ENMESHMENT(op, w, row_labels, col_labels, c_out, rows, cols, slice, k, max_k, scale) \
  do {                                                                            \
    CLEAVE_REQUIRE(op, (c_out) && ((w) || (int64_t)(rows) * (cols) == 0) &&       \
                           ((row_labels) || (rows) == 0) && ((col_labels) || (cols) == 0), \
                   "w, row_labels, col_labels and c_out must not be null");       \
    CLEAVE_REQUIRE(op, (rows) >= 0 && (cols) >= 0, "rows and cols must be >= 0, got %d, %d", rows, cols); \
    CLEAVE_REQUIRE(op, (slice) >= 1, "slice must be >= 1 (kh * kw for a conv kernel, 1 for a matrix), got %d", slice); \
    CLEAVE_REQUIRE(op, (k) >= 1 && (k) <= (max_k), "k must be in [1, %d], got %d", max_k, k); \
    CLEAVE_REQUIRE(op, std::isfinite(scale), "scale must be finite, got %g", scale); \
  } while (0)

// conv2d (forward and backward): the geometry; pointers are checked by each op.
#define CLEAVE_CHECK_CONV2D_GEOMETRY(op, batch, in, h, w, out, k, stride, pad)                              \
  do {                                                                                                     \
    CLEAVE_REQUIRE(op, (batch) > 0 && (in) > 0 && (h) > 0 && (w) > 0 && (out) > 0 && (k) > 0 &&            \
                           (stride) > 0 && (pad) >= 0,                                                     \
                   "batch %d, channels %d -> %d, image %dx%d, kernel %d, stride %d, padding %d: all must be " \
                   "positive (padding >= 0)", batch, in, out, h, w, k, stride, pad);                      \
    CLEAVE_REQUIRE(op, (h) + 2 * (pad) >= (k) && (w) + 2 * (pad) >= (k),                                   \
                   "a %dx%d kernel does not fit a %dx%d image with padding %d", k, k, h, w, pad);          \
  } while (0)

#define CLEAVE_CHECK_CONV2D_FORWARD_POINTERS(op, x, w, y) \
  CLEAVE_REQUIRE(op, (x) && (w) && (y), "x, w and y must not be null")

#define CLEAVE_CHECK_CONV2D_BACKWARD_POINTERS(op, x, w, y, dy, dw, relu)                 \
  do {                                                                                  \
    CLEAVE_REQUIRE(op, (x) && (w) && (dy) && (dw), "x, w, dy and dw must not be null"); \
    CLEAVE_REQUIRE(op, !(relu) || (y), "relu backward needs the layer output y");       \
  } while (0)

// maxpool2d (forward and backward): the window and the image.
#define CLEAVE_CHECK_MAXPOOL2D(op, batch, channels, h, w, k, stride)                                        \
  do {                                                                                                     \
    CLEAVE_REQUIRE(op, (batch) > 0 && (channels) > 0 && (h) > 0 && (w) > 0 && (k) > 0 && (stride) > 0,     \
                   "batch %d, channels %d, image %dx%d, window %d, stride %d: all must be positive", batch, \
                   channels, h, w, k, stride);                                                             \
    CLEAVE_REQUIRE(op, (k) <= (h) && (k) <= (w), "a %dx%d window does not fit a %dx%d image", k, k, h, w);  \
  } while (0)

// batchnorm2d (forward and backward): the shape.
#define CLEAVE_CHECK_BATCHNORM2D_SHAPE(op, batch, channels, h, w)                                    \
  CLEAVE_REQUIRE(op, (batch) > 0 && (channels) > 0 && (h) > 0 && (w) > 0,                          \
                 "batch %d, channels %d, image %dx%d: all must be positive", batch, channels, h, w)

// batchnorm2d_forward: m = batch * h * w values per channel, the momentum and eps.
#define CLEAVE_CHECK_BATCHNORM2D_FORWARD(op, training, m, momentum, eps)                                \
  do {                                                                                                 \
    CLEAVE_REQUIRE(op, !(training) || (m) > 1, "training needs more than one value per channel, got %lld", \
                   (long long)(m));                                                                    \
    CLEAVE_REQUIRE(op, (momentum) >= 0.0f && (momentum) <= 1.0f && (eps) > 0.0f,                       \
                   "momentum must be in [0, 1] and eps > 0, got %g, %g", momentum, eps);               \
  } while (0)

// ---- block kernels of the eigensolver (cleave_spectral.h, cleave_cuda_ops.h) ----
// block_chebyshev_step: the arrays it writes and reads and the count (y0 may be null).
#define CLEAVE_CHECK_BLOCK_CHEBYSHEV_STEP(op, y1, y2, count)                                   \
  do {                                                                                        \
    CLEAVE_REQUIRE(op, (y1) && (y2), "y1 and y2 must not be null");                           \
    CLEAVE_REQUIRE(op, (count) >= 0, "count must be >= 0, got %lld", (long long)(count));      \
  } while (0)

// block_copy: both arrays, and columns [s0, s0 + c) of src and [d0, d0 + c) of dst within their rows.
#define CLEAVE_CHECK_BLOCK_COPY(op, n, src, lds, s0, dst, ldd, d0, c)                                          \
  do {                                                                                                        \
    CLEAVE_REQUIRE(op, (src) && (dst), "src and dst must not be null");                                       \
    CLEAVE_REQUIRE(op, (n) >= 0 && (c) >= 0 && (s0) >= 0 && (d0) >= 0 && (s0) + (c) <= (lds) && (d0) + (c) <= (ldd), \
                   "need columns [s0, s0 + c) within lds and [d0, d0 + c) within ldd; got n = %lld, s0 = %d, d0 = %d, " \
                   "c = %d, lds = %lld, ldd = %lld", (long long)(n), s0, d0, c, (long long)(lds), (long long)(ldd)); \
  } while (0)

// ---- the last error: one per host thread and library ----
// Each library defines its recorders with CLEAVE_DEFINE_ERROR_RECORDERS(buffer, path_of) inside
// its namespace, once (native/src/library.cpp, cuda/src/runtime.cu), where `buffer` is its
// thread_local char array and `path_of(file)` turns __FILE__ into the path its messages show.
// That defines
//   int fail(int status, const char* op, const char* file, int line, const char* fmt, ...)
//     records "op: message (path:line)" and returns status;
//   int set_error(const char* op, const char* file, int line, const char* fmt, ...)
//     the same for an internal failure: returns CLEAVE_INTERNAL_ERROR;
//   int ok()  clears the last error; returns 0.
#define CLEAVE_DEFINE_ERROR_RECORDERS(buffer, path_of)                                        \
  int fail(int status, const char* op, const char* file, int line, const char* fmt, ...) {   \
    va_list ap;                                                                               \
    va_start(ap, fmt);                                                                        \
    ::cleave_shared::format_error(buffer, sizeof buffer, op, path_of(file), line, fmt, ap);   \
    va_end(ap);                                                                               \
    return status;                                                                            \
  }                                                                                           \
  int set_error(const char* op, const char* file, int line, const char* fmt, ...) {          \
    va_list ap;                                                                               \
    va_start(ap, fmt);                                                                        \
    ::cleave_shared::format_error(buffer, sizeof buffer, op, path_of(file), line, fmt, ap);   \
    va_end(ap);                                                                               \
    return CLEAVE_INTERNAL_ERROR;                                                             \
  }                                                                                           \
  int ok() {                                                                                  \
    buffer[0] = '\0';                                                                         \
    return 0;                                                                                 \
  }

namespace cleave_shared {
// `file` (a __FILE__) from the first of root or also (may be null) it contains on, e.g.
// "native/src/linear.cpp" from "/home/me/cleave/native/src/linear.cpp"; `file` itself if neither.
inline const char* source_path(const char* file, const char* root, const char* also = nullptr) {
  const char* p = std::strstr(file, root);
  if (!p && also) p = std::strstr(file, also);
  return p ? p : file;
}

// Writes "op: message (path:line)" into buf (size bytes, cut to fit), the message from fmt and ap.
inline void format_error(char* buf, size_t size, const char* op, const char* path, int line, const char* fmt,
                         va_list ap) {
  int n = std::snprintf(buf, size, "%s: ", op);
  if (n > 0 && n < (int)size) n += std::vsnprintf(buf + n, size - n, fmt, ap);
  if (n > 0 && n < (int)size) std::snprintf(buf + n, size - n, " (%s:%d)", path, line);
}

// Counter-based uniform in [0, 1) with 24 random bits (a splitmix64 finaliser of seed, stream and
// index): the dropout masks. dev.cleave.nn.Rng.uniform is the same function in Java, so every
// backend draws the same masks bit for bit; change the two together.
CLEAVE_HOST_DEVICE float dropout_uniform(uint64_t seed, uint64_t stream, uint64_t i) {
  uint64_t z = seed ^ (stream * 0x9E3779B97F4A7C15ULL);
  z += (i + 1) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (float)(z >> 40) * (1.0f / 16777216.0f);
}
}  // namespace cleave_shared

#endif
