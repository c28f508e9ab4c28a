// enmeshment: clusterability C of a weight matrix and the gradient of C (G24's enmeshment loss),
// in two passes over W. W is rows x cols x slice: a matrix (slice 1) or a conv kernel
// (out, in, kh, kw) with slice kh * kw, whose element (i, j, s) is in row i's block when column
// j is; C is then the in-block share of the squared kernel mass sum ||K[i, j, :, :]||^2.
//
//   pass 1 (sums):   reads W; S = sum W^2 and B = in-block sum of W^2, in double.
//   pass 2 (update): reads W and G, writes G += a_in * W inside the blocks and a_out * W
//                    outside, with C = B / S, a_in = 2 scale (1 - C) / S, a_out = -2 scale C / S.
// Bytes moved: 2 reads of W + 1 read and 1 write of G = 16 bytes per element.
//
// The in-block test: when each column label occupies one contiguous run of columns (the
// balanced partition, or any partition of sorted columns), row i's block is the column range
// of its label (times slice), so a row splits into out | in | out segments of plain SIMD loops.
// Otherwise, for slice 1, each element compares its column label with the row's label (vector
// compare + select); for slice > 1 the row is walked in runs of columns all in or all out of
// the block, each run a plain SIMD loop over its slices.
//
// Determinism: rows are cut into fixed chunks of about kChunk elements whatever the thread
// count; each chunk's sums are kept in double and the chunk sums are added in chunk order.
// Inside a chunk, float SIMD accumulators are flushed into double every kFlush elements.
//
// SIMD: GCC vector extensions of 8 floats (AVX2, the x86-64-v3 baseline), 4 accumulators.
//
// Built by `mvn -B -q -o -DskipTests package`; timed by benchmarks/.../EnmeshmentBench.java
// (exact command in its header). Variants explored with a throwaway C++ timing loop around
// this function (min of 40 runs, 1 and 2 OpenMP threads) and dropped:
//  - the same loops at 16 lanes (AVX-512 through __attribute__((target("avx512f"))) and
//    __builtin_cpu_supports dispatch): no measurable gain on this AMD EPYC at 256, 1024 or
//    4096 square (differences within the run-to-run noise of the shared 2-core machine;
//    4096 is bound by DRAM), so one path, the one the tests cover;
//  - pass 2 walking the rows backwards, to reuse the end of W still in L3 from pass 1:
//    consistently slower at 1024 and 4096 (likely the prefetchers);
//  - lane sums added one by one in double: slow for short segments (k = width); the lanes
//    are now added as a tree in float and only then widened.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>
#include "cleave_modular.h"
#include "common.h"

namespace {
constexpr int64_t kChunk = 1 << 14;  // elements per chunk of whole rows (both passes)
constexpr int64_t kFlush = 1 << 10;  // elements per float accumulator before it goes to double

constexpr int L = 8;                 // SIMD lanes
typedef float F __attribute__((vector_size(4 * L)));
typedef int32_t I __attribute__((vector_size(4 * L)));
typedef float F4 __attribute__((vector_size(16)));

// Unaligned loads and stores (the memcpy compiles to one vmovups).
inline F loadf(const float* p) {
  F v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline I loadi(const int32_t* p) {
  I v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void storef(float* p, F v) { std::memcpy(p, &v, sizeof v); }

// The 8 lanes added as a fixed tree in float (halves, then quarters, ...), then widened.
inline double hsum(F v) {
  F4 lo, hi;
  std::memcpy(&lo, &v, sizeof lo);
  std::memcpy(&hi, (const char*)&v + sizeof lo, sizeof hi);
  const F4 q = lo + hi;
  return (q[0] + q[2]) + (q[1] + q[3]);
}

struct Sums {
  double all = 0.0;  // sum of w^2
  double in = 0.0;   // in-block sum of w^2
};

// Sum of p[j]^2 over [0, n).
inline double sumsq(const float* p, int64_t n) {
  double total = 0.0;
  int64_t j = 0;
  while (j + 4 * L <= n) {
    const int64_t end = j + std::min(kFlush, (n - j) / (4 * L) * (4 * L));
    F a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (; j < end; j += 4 * L) {
      const F x0 = loadf(p + j), x1 = loadf(p + j + L);
      const F x2 = loadf(p + j + 2 * L), x3 = loadf(p + j + 3 * L);
      a0 += x0 * x0;
      a1 += x1 * x1;
      a2 += x2 * x2;
      a3 += x3 * x3;
    }
    total += hsum((a0 + a1) + (a2 + a3));
  }
  F a = {};
  for (; j + L <= n; j += L) {
    const F x = loadf(p + j);
    a += x * x;
  }
  float tail = 0.0f;
  for (; j < n; ++j) tail += p[j] * p[j];
  return total + hsum(a) + tail;
}

// Sums of w[j]^2 over [0, n), all and where c[j] == label.
inline Sums sumsq_labelled(const float* w, const int32_t* c, int32_t label, int64_t n) {
  const F zero = {};
  const I lv = label + I{};
  Sums s;
  int64_t j = 0;
  while (j + 2 * L <= n) {
    const int64_t end = j + std::min(kFlush, (n - j) / (2 * L) * (2 * L));
    F all0 = {}, all1 = {}, in0 = {}, in1 = {};
    for (; j < end; j += 2 * L) {
      const F x0 = loadf(w + j), x1 = loadf(w + j + L);
      const F q0 = x0 * x0, q1 = x1 * x1;
      all0 += q0;
      all1 += q1;
      in0 += loadi(c + j) == lv ? q0 : zero;
      in1 += loadi(c + j + L) == lv ? q1 : zero;
    }
    s.all += hsum(all0 + all1);
    s.in += hsum(in0 + in1);
  }
  float all = 0.0f, in = 0.0f;
  for (; j < n; ++j) {
    const float q = w[j] * w[j];
    all += q;
    in += c[j] == label ? q : 0.0f;
  }
  s.all += all;
  s.in += in;
  return s;
}

// g[j] += a * w[j] over [0, n).
inline void axpy(float* __restrict g, const float* __restrict w, int64_t n, float a) {
  const F av = a + F{};
  int64_t j = 0;
  for (; j + L <= n; j += L) storef(g + j, loadf(g + j) + av * loadf(w + j));
  for (; j < n; ++j) g[j] += a * w[j];
}

// g[j] += (c[j] == label ? a_in : a_out) * w[j] over [0, n).
inline void axpy_labelled(float* __restrict g, const float* __restrict w, const int32_t* c,
                          int32_t label, int64_t n, float a_in, float a_out) {
  const F in = a_in + F{}, out = a_out + F{};
  const I lv = label + I{};
  int64_t j = 0;
  for (; j + L <= n; j += L) {
    const F a = loadi(c + j) == lv ? in : out;
    storef(g + j, loadf(g + j) + a * loadf(w + j));
  }
  for (; j < n; ++j) g[j] += (c[j] == label ? a_in : a_out) * w[j];
}

struct Range {
  int64_t lo, hi;  // the elements [lo, hi) of a row in one cluster's columns; empty when lo == hi
};

struct Problem {
  const float* w;
  const int32_t* row_labels;
  const int32_t* col_labels;
  int cols;
  int64_t slice;        // elements per (row, column) pair: kh * kw for a conv kernel, 1 for a matrix
  int64_t row_len;      // cols * slice
  const Range* ranges;  // per label when every label's columns are contiguous, else null
};

// Calls f(lo, hi, in_block) on the maximal runs of row i's elements whose columns are all in or
// all out of the row's block (slices of one column are never split).
template <class Fn>
inline void for_runs(const Problem& p, int32_t label, Fn f) {
  for (int j = 0; j < p.cols;) {
    const bool in = p.col_labels[j] == label;
    int end = j + 1;
    while (end < p.cols && (p.col_labels[end] == label) == in) ++end;
    f(j * p.slice, end * p.slice, in);
    j = end;
  }
}

// Pass 1 over rows [r0, r1).
Sums chunk_sums(const Problem& p, int64_t r0, int64_t r1) {
  Sums s;
  for (int64_t i = r0; i < r1; ++i) {
    const float* w = p.w + i * p.row_len;
    const int32_t label = p.row_labels[i];
    if (p.ranges) {
      const Range b = p.ranges[label];
      const double in = sumsq(w + b.lo, b.hi - b.lo);
      s.in += in;
      s.all += (sumsq(w, b.lo) + in) + sumsq(w + b.hi, p.row_len - b.hi);
    } else if (p.slice == 1) {
      const Sums r = sumsq_labelled(w, p.col_labels, label, p.cols);
      s.in += r.in;
      s.all += r.all;
    } else {
      double all = 0.0, in = 0.0;
      for_runs(p, label, [&](int64_t lo, int64_t hi, bool in_block) {
        const double q = sumsq(w + lo, hi - lo);
        all += q;
        if (in_block) in += q;
      });
      s.in += in;
      s.all += all;
    }
  }
  return s;
}

// Pass 2 over rows [r0, r1).
void chunk_update(const Problem& p, float* grad, int64_t r0, int64_t r1, float a_in,
                  float a_out) {
  for (int64_t i = r0; i < r1; ++i) {
    const float* w = p.w + i * p.row_len;
    float* g = grad + i * p.row_len;
    const int32_t label = p.row_labels[i];
    if (p.ranges) {
      const Range b = p.ranges[label];
      axpy(g, w, b.lo, a_out);
      axpy(g + b.lo, w + b.lo, b.hi - b.lo, a_in);
      axpy(g + b.hi, w + b.hi, p.row_len - b.hi, a_out);
    } else if (p.slice == 1) {
      axpy_labelled(g, w, p.col_labels, label, p.cols, a_in, a_out);
    } else {
      for_runs(p, label, [&](int64_t lo, int64_t hi, bool in_block) {
        axpy(g + lo, w + lo, hi - lo, in_block ? a_in : a_out);
      });
    }
  }
}

// Per-label element ranges of a row (columns times slice) when every column label occupies one
// contiguous run of columns; empty otherwise.
std::vector<Range> contiguous_ranges(const int32_t* col_labels, int cols, int64_t slice, int k) {
  std::vector<Range> ranges(k, Range{0, 0});
  std::vector<char> seen(k, 0);
  for (int j = 0; j < cols;) {
    const int32_t c = col_labels[j];
    if (seen[c]) return {};
    seen[c] = 1;
    int end = j + 1;
    while (end < cols && col_labels[end] == c) ++end;
    ranges[c] = Range{j * slice, end * slice};
    j = end;
  }
  return ranges;
}

const char* const op = "enmeshment";

int enmeshment(const float* w, const int32_t* row_labels, const int32_t* col_labels, int rows,
               int cols, int slice, int k, float scale, float* grad, double* c_out) {
  CLEAVE_CHECK_ENMESHMENT(op, w, row_labels, col_labels, c_out, rows, cols, slice, k,
                          CLEAVE_ENMESHMENT_MAX_K, scale);
  for (int i = 0; i < rows; ++i)
    CLEAVE_REQUIRE(op, row_labels[i] >= 0 && row_labels[i] < k,
                   "row label %d of row %d is outside [0, %d)", row_labels[i], i, k);
  for (int j = 0; j < cols; ++j)
    CLEAVE_REQUIRE(op, col_labels[j] >= 0 && col_labels[j] < k,
                   "column label %d of column %d is outside [0, %d)", col_labels[j], j, k);

  const std::vector<Range> ranges = contiguous_ranges(col_labels, cols, slice, k);
  const int64_t row_len = (int64_t)cols * slice;
  const Problem p{w, row_labels, col_labels, cols, slice, row_len,
                  ranges.empty() ? nullptr : ranges.data()};
  const int64_t n = (int64_t)rows * row_len;
  const bool parallel = n > cleave::kParallelMin;

  // Pass 1: fixed chunks of whole rows, summed in chunk order.
  const int64_t chunk_rows = std::max<int64_t>(1, kChunk / std::max<int64_t>(row_len, 1));
  const int64_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  std::vector<Sums> part(chunks);
#pragma omp parallel for schedule(static) if (parallel) num_threads(cleave::team(cleave::threads()))
  for (int64_t t = 0; t < chunks; ++t) {
    const int64_t r0 = t * chunk_rows, r1 = std::min<int64_t>(rows, r0 + chunk_rows);
    part[t] = chunk_sums(p, r0, r1);
  }
  Sums total;
  for (const Sums& s : part) {
    total.all += s.all;
    total.in += s.in;
  }
  CLEAVE_REQUIRE_FINITE(op, std::isfinite(total.all), CLEAVE_NONFINITE_WEIGHTS_MESSAGE);
  if (total.all == 0.0) {  // all-zero w: no block structure to measure, and no gradient
    *c_out = 0.0;
    return cleave::ok();
  }
  const double c = total.in / total.all;
  *c_out = c;
  if (!grad) return cleave::ok();

  // Pass 2.
  const float a_in = (float)(2.0 * scale * (1.0 - c) / total.all);
  const float a_out = (float)(-2.0 * scale * c / total.all);
#pragma omp parallel for schedule(static) if (parallel) num_threads(cleave::team(cleave::threads()))
  for (int64_t t = 0; t < chunks; ++t) {
    const int64_t r0 = t * chunk_rows, r1 = std::min<int64_t>(rows, r0 + chunk_rows);
    chunk_update(p, grad, r0, r1, a_in, a_out);
  }
  return cleave::ok();
}
}  // namespace

extern "C" int cleave_enmeshment(const float* w, const int32_t* row_labels,
                                 const int32_t* col_labels, int rows, int cols, int slice, int k,
                                 float scale, float* grad, double* c_out) {
  try {  // the scratch vectors are small (k ranges, one sum per chunk), but never let one throw
    return enmeshment(w, row_labels, col_labels, rows, cols, slice, k, scale, grad, c_out);
  } catch (const std::bad_alloc&) {
    return cleave::set_error(op, __FILE__, __LINE__, "out of memory for the scratch arrays");
  }
}
