// spectral_op: the normalized adjacency N = D^-1/2 A D^-1/2 (and the bipartite half operator
// M = N_ST N_TS) applied to a block of vectors without forming either.
//
// A is stored exactly as given (float weights: the graph's own values), vectors and sums are
// double, and the scaling by d^-1/2 is applied to the vectors, so the operator carries no
// rounding beyond double arithmetic. Dense blocks (network layers) go through a register-tiled
// kernel (8 rows x 16 columns of accumulators with AVX-512, 4 x 8 with AVX2; float weights
// widened on the fly); CSR blocks through a row kernel vectorized across
// the block's columns. The AVX-512 kernels are compiled with target attributes and chosen at
// run time, so the library still loads on any x86-64-v3 CPU; on a Zen 5 core the dense one runs
// at about 110 GFLOP/s, 2.2x the AVX2 one. Both parallelize over output rows only, so every
// output element is summed by one thread in one order: results do not depend on the thread
// count (nor on the kernel: both sum in the same order, FMA for FMA).
#include <immintrin.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include "cleave_cpu.h"
#include "common.h"
#include "spectral_internal.h"

namespace cleave::spectral {
namespace {

typedef double v4d __attribute__((vector_size(32)));

inline v4d load4(const double* p) {
  v4d v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store4(double* p, v4d v) { std::memcpy(p, &v, sizeof v); }
inline v4d splat(double s) { return (v4d){s, s, s, s}; }

// y[r][0:4V] += sum_j a[r][j] x[j][0:4V] for R rows of a.
template <int R, int V>
inline void dense_tile(const float* a, int64_t lda, int64_t cols, const double* x, int64_t ldx,
                       double* y, int64_t ldy) {
  v4d acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = splat(0.0);
  for (int64_t j = 0; j < cols; ++j) {
    v4d xv[V];
    for (int v = 0; v < V; ++v) xv[v] = load4(x + j * ldx + 4 * v);
    for (int r = 0; r < R; ++r) {
      const v4d ar = splat((double)a[r * lda + j]);
      for (int v = 0; v < V; ++v) acc[r][v] += ar * xv[v];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) store4(y + r * ldy + 4 * v, load4(y + r * ldy + 4 * v) + acc[r][v]);
}

template <int R>
inline void dense_rows(const float* a, int64_t lda, int64_t cols, const double* x, int64_t ldx,
                       double* y, int64_t ldy, int c) {
  int c0 = 0;
  for (; c0 + 8 <= c; c0 += 8) dense_tile<R, 2>(a, lda, cols, x + c0, ldx, y + c0, ldy);
  if (c0 < c) dense_tile<R, 1>(a, lda, cols, x + c0, ldx, y + c0, ldy);
}

// ---- AVX-512: 8 rows x (Z zmm + Y ymm) columns per tile; c is a multiple of 4 ----
// Chunks of 16 columns (2 zmm), then a tail of 12 (zmm + ymm), 8 (zmm) or 4 (ymm): no masks,
// which in the inner loop would cost a third of its speed.
template <int R, int Z, int Y>
__attribute__((target("avx512f"))) inline void dense_tile512(const float* a, int64_t lda, int64_t cols,
                                                             const double* x, int64_t ldx, double* y,
                                                             int64_t ldy) {
  __m512d acc[R][Z > 0 ? Z : 1];
  __m256d acc4[R];
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < Z; ++v) acc[r][v] = _mm512_setzero_pd();
    acc4[r] = _mm256_setzero_pd();
  }
  for (int64_t j = 0; j < cols; ++j) {
    __m512d xv[Z > 0 ? Z : 1];
    for (int v = 0; v < Z; ++v) xv[v] = _mm512_loadu_pd(x + j * ldx + 8 * v);
    __m256d x4 = _mm256_setzero_pd();
    if (Y) x4 = _mm256_loadu_pd(x + j * ldx + 8 * Z);
    for (int r = 0; r < R; ++r) {
      const double ar = (double)a[r * lda + j];
      const __m512d a8 = _mm512_set1_pd(ar);
      for (int v = 0; v < Z; ++v) acc[r][v] = _mm512_fmadd_pd(a8, xv[v], acc[r][v]);
      if (Y) acc4[r] = _mm256_fmadd_pd(_mm256_set1_pd(ar), x4, acc4[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    double* yr = y + r * ldy;
    for (int v = 0; v < Z; ++v) _mm512_storeu_pd(yr + 8 * v, _mm512_add_pd(_mm512_loadu_pd(yr + 8 * v), acc[r][v]));
    if (Y) _mm256_storeu_pd(yr + 8 * Z, _mm256_add_pd(_mm256_loadu_pd(yr + 8 * Z), acc4[r]));
  }
}

template <int R>
__attribute__((target("avx512f"))) void dense_rows512(const float* a, int64_t lda, int64_t cols,
                                                      const double* x, int64_t ldx, double* y, int64_t ldy,
                                                      int c) {
  int c0 = 0;
  for (; c0 + 16 <= c; c0 += 16) dense_tile512<R, 2, 0>(a, lda, cols, x + c0, ldx, y + c0, ldy);
  switch (c - c0) {
    case 12: dense_tile512<R, 1, 1>(a, lda, cols, x + c0, ldx, y + c0, ldy); break;
    case 8: dense_tile512<R, 1, 0>(a, lda, cols, x + c0, ldx, y + c0, ldy); break;
    case 4: dense_tile512<R, 0, 1>(a, lda, cols, x + c0, ldx, y + c0, ldy); break;
    default: break;
  }
}

// Rows [r0, r1) of a row-major float block a (row length L) times a c-column x (AVX-512).
__attribute__((target("avx512f"))) void row_range512(const float* a, int64_t L, int64_t r0, int64_t r1,
                                                     const double* x, int64_t ldx, double* y, int64_t ldy, int c) {
  int64_t r = r0;
  for (; r + 8 <= r1; r += 8) dense_rows512<8>(a + r * L, L, L, x, ldx, y + r * ldy, ldy, c);
  switch (r1 - r) {
    case 7: dense_rows512<7>(a + r * L, L, L, x, ldx, y + r * ldy, ldy, c); break;
    case 6: dense_rows512<6>(a + r * L, L, L, x, ldx, y + r * ldy, ldy, c); break;
    case 5: dense_rows512<5>(a + r * L, L, L, x, ldx, y + r * ldy, ldy, c); break;
    case 4: dense_rows512<4>(a + r * L, L, L, x, ldx, y + r * ldy, ldy, c); break;
    case 3: dense_rows512<3>(a + r * L, L, L, x, ldx, y + r * ldy, ldy, c); break;
    case 2: dense_rows512<2>(a + r * L, L, L, x, ldx, y + r * ldy, ldy, c); break;
    case 1: dense_rows512<1>(a + r * L, L, L, x, ldx, y + r * ldy, ldy, c); break;
    default: break;
  }
}

// ---- AVX-512 on the transposed block: 8V rows x C columns per tile ----
// at is the block's transpose (cols x rows, row length lda), pointing at the tile's first row.
// Each step j converts 8V consecutive entries of column j of the block to doubles and multiplies
// them by broadcasts of x[j][0:C], so a narrow x (4 to 12 columns) still fills whole registers,
// which the row tiles above cannot (they run 1.5 to 3x below this at 4 to 12 columns). Every y
// element is the same chain of FMAs over j from zero, then added to y: the row tiles' bits.
template <int V, int C>
__attribute__((target("avx512f"))) inline void panel_tile512(const float* at, int64_t lda, int64_t cols,
                                                             const double* x, int64_t ldx, double* y,
                                                             int64_t ldy) {
  __m512d acc[V][C];
  for (int v = 0; v < V; ++v)
    for (int k = 0; k < C; ++k) acc[v][k] = _mm512_setzero_pd();
  for (int64_t j = 0; j < cols; ++j) {
    __m512d av[V];
    // maskz with every lane set: the plain conversion's result, without GCC 12's false
    // "may be used uninitialized" on _mm512_cvtps_pd's undefined pass-through operand
    for (int v = 0; v < V; ++v) av[v] = _mm512_maskz_cvtps_pd((__mmask8)0xFF, _mm256_loadu_ps(at + j * lda + 8 * v));
    const double* xj = x + j * ldx;
    for (int k = 0; k < C; ++k) {
      const __m512d b = _mm512_set1_pd(xj[k]);
      for (int v = 0; v < V; ++v) acc[v][k] = _mm512_fmadd_pd(av[v], b, acc[v][k]);
    }
  }
  alignas(64) double t[C][8 * V];
  for (int v = 0; v < V; ++v)
    for (int k = 0; k < C; ++k) _mm512_store_pd(&t[k][8 * v], acc[v][k]);
  for (int i = 0; i < 8 * V; ++i)
    for (int k = 0; k < C; ++k) y[i * ldy + k] += t[k][i];
}

// Rows [r0, r1) of a dense piece (AVX-512). at: the piece's transpose (its mirror's matrix) or
// null. Chunks of 16 columns go through the row tiles; a narrower rest (4, 8 or 12 columns) goes
// through the panel tiles where the transpose exists, whole tiles of rows only.
__attribute__((target("avx512f"))) void dense_range512(const Piece& p, const float* at, int64_t r0, int64_t r1,
                                                       const double* x, int64_t ldx, double* y, int64_t ldy, int c) {
  const float* a = p.a.data();
  const int64_t L = p.cols;
  const int c16 = at ? (c & ~15) : c;
  if (c16 > 0) row_range512(a, L, r0, r1, x, ldx, y, ldy, c16);
  if (c16 == c) return;
  const int w = c - c16;
  const double* xw = x + c16;
  double* yw = y + c16;
  const int64_t lda = p.rows;
  int64_t r = r0;
  switch (w) {
    case 4:
      for (; r + 32 <= r1; r += 32) panel_tile512<4, 4>(at + r, lda, L, xw, ldx, yw + r * ldy, ldy);
      for (; r + 16 <= r1; r += 16) panel_tile512<2, 4>(at + r, lda, L, xw, ldx, yw + r * ldy, ldy);
      break;
    case 8:
      for (; r + 16 <= r1; r += 16) panel_tile512<2, 8>(at + r, lda, L, xw, ldx, yw + r * ldy, ldy);
      break;
    case 12:
      for (; r + 16 <= r1; r += 16) panel_tile512<2, 12>(at + r, lda, L, xw, ldx, yw + r * ldy, ldy);
      break;
    default: break;
  }
  if (r < r1) row_range512(a, L, r, r1, xw, ldx, yw, ldy, w);
}

template <int Z, int Y>
__attribute__((target("avx512f"))) inline void csr_chunk512(const int32_t* col, const float* w, int64_t e0, int64_t e1,
                                                            const double* x, int64_t ldx, double* y) {
  __m512d acc[Z > 0 ? Z : 1];
  for (int v = 0; v < Z; ++v) acc[v] = _mm512_setzero_pd();
  __m256d acc4 = _mm256_setzero_pd();
  for (int64_t e = e0; e < e1; ++e) {
    const double we = (double)w[e];
    const double* xr = x + (int64_t)col[e] * ldx;
    for (int v = 0; v < Z; ++v) acc[v] = _mm512_fmadd_pd(_mm512_set1_pd(we), _mm512_loadu_pd(xr + 8 * v), acc[v]);
    if (Y) acc4 = _mm256_fmadd_pd(_mm256_set1_pd(we), _mm256_loadu_pd(xr + 8 * Z), acc4);
  }
  for (int v = 0; v < Z; ++v) _mm512_storeu_pd(y + 8 * v, _mm512_add_pd(_mm512_loadu_pd(y + 8 * v), acc[v]));
  if (Y) _mm256_storeu_pd(y + 8 * Z, _mm256_add_pd(_mm256_loadu_pd(y + 8 * Z), acc4));
}

__attribute__((target("avx512f"))) void csr_one512(const Piece& p, int64_t i, const double* x, int64_t ldx,
                                                   double* y, int c) {
  const int64_t e0 = p.off[i], e1 = p.off[i + 1];
  const int32_t* col = p.col.data();
  const float* w = p.w.data();
  int c0 = 0;
  for (; c0 + 16 <= c; c0 += 16) csr_chunk512<2, 0>(col, w, e0, e1, x + c0, ldx, y + c0);
  switch (c - c0) {
    case 12: csr_chunk512<1, 1>(col, w, e0, e1, x + c0, ldx, y + c0); break;
    case 8: csr_chunk512<1, 0>(col, w, e0, e1, x + c0, ldx, y + c0); break;
    case 4: csr_chunk512<0, 1>(col, w, e0, e1, x + c0, ldx, y + c0); break;
    default: break;
  }
}

// Runs during the library's static initialization, where GCC needs __builtin_cpu_init() first.
bool detect_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
const bool kAvx512 = detect_avx512();

// Rows [r0, r1) of a dense piece (AVX2).
void dense_range(const Piece& p, int64_t r0, int64_t r1, const double* x, int64_t ldx, double* y,
                 int64_t ldy, int c) {
  const float* a = p.a.data();
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) dense_rows<4>(a + r * p.cols, p.cols, p.cols, x, ldx, y + r * ldy, ldy, c);
  switch (r1 - r) {
    case 3: dense_rows<3>(a + r * p.cols, p.cols, p.cols, x, ldx, y + r * ldy, ldy, c); break;
    case 2: dense_rows<2>(a + r * p.cols, p.cols, p.cols, x, ldx, y + r * ldy, ldy, c); break;
    case 1: dense_rows<1>(a + r * p.cols, p.cols, p.cols, x, ldx, y + r * ldy, ldy, c); break;
    default: break;
  }
}

template <int V>
inline void csr_row(const int32_t* col, const float* w, int64_t e0, int64_t e1, const double* x,
                    int64_t ldx, double* y) {
  v4d acc[V];
  for (int v = 0; v < V; ++v) acc[v] = splat(0.0);
  for (int64_t e = e0; e < e1; ++e) {
    const v4d we = splat((double)w[e]);
    const double* xr = x + (int64_t)col[e] * ldx;
    for (int v = 0; v < V; ++v) acc[v] += we * load4(xr + 4 * v);
  }
  for (int v = 0; v < V; ++v) store4(y + 4 * v, load4(y + 4 * v) + acc[v]);
}

void csr_one(const Piece& p, int64_t i, const double* x, int64_t ldx, double* y, int c) {
  const int64_t e0 = p.off[i], e1 = p.off[i + 1];
  const int32_t* col = p.col.data();
  const float* w = p.w.data();
  int c0 = 0;
  for (; c0 + 16 <= c; c0 += 16) csr_row<4>(col, w, e0, e1, x + c0, ldx, y + c0);
  switch ((c - c0) / 4) {
    case 3: csr_row<3>(col, w, e0, e1, x + c0, ldx, y + c0); break;
    case 2: csr_row<2>(col, w, e0, e1, x + c0, ldx, y + c0); break;
    case 1: csr_row<1>(col, w, e0, e1, x + c0, ldx, y + c0); break;
    default: break;
  }
}

// The transpose the panel tiles read for piece p, or null. Not when the transpose's rows are a
// multiple of 4 KiB apart (p.rows a multiple of 1024): a panel tile then reads lines that all
// fall into the same few cache sets, one page each, and runs below the row tiles (measured: 1024
// and 2048 rows 0.5 to 0.9x the row tiles; 256, 512, 768 and 1000 rows 1.5 to 3x faster).
const float* panel_source(const cleave_spectral_op& op, const Piece& p) {
  if (p.twin < 0 || p.rows % 1024 == 0) return nullptr;
  return op.pieces[p.twin].a.data();
}

// Rows [a, b) (relative to the piece) of y[dst..] += piece * x[src..]; x and y point at row 0 of
// their spaces, which start at global rows xoff and yoff.
void piece_rows(const cleave_spectral_op& op, const Piece& p, int64_t a, int64_t b, const double* x, int64_t ldx,
                int64_t xoff, double* y, int64_t ldy, int64_t yoff, int c) {
  const double* xs = x + (p.src - xoff) * ldx;
  double* yd = y + (p.dst - yoff) * ldy;
  if (p.dense) {
    if (kAvx512) dense_range512(p, panel_source(op, p), a, b, xs, ldx, yd, ldy, c);
    else dense_range(p, a, b, xs, ldx, yd, ldy, c);
  } else {
    for (int64_t i = a; i < b; ++i) {
      if (kAvx512) csr_one512(p, i, xs, ldx, yd + i * ldy, c);
      else csr_one(p, i, xs, ldx, yd + i * ldy, c);
    }
  }
}

// One stage of an application: y[r] = f(r) * sum over the selected pieces of piece * x, for every
// row r of the destination range [yoff, yoff + rows), f = s (power 1) or s^2 (power 2). It is one
// parallel loop over tiles of destination rows; a tile sums every piece that writes its rows (in
// piece order, so the result never depends on the thread count), then scales them. Rows that no
// piece writes come out zero. Call inside a parallel region.
struct Task {
  int64_t r0, r1;  // global destination rows
  int first, count;  // into the covering-piece list
};

struct Plan {
  std::vector<Task> tasks;
  std::vector<int> cover;
};

// The tiles of a stage over destination rows [yoff, yoff + rows), from the selected pieces.
Plan plan(const cleave_spectral_op& op, const std::vector<int>& sel, int64_t yoff, int64_t rows) {
  Plan pl;
  std::vector<Task>& tasks = pl.tasks;
  std::vector<int>& cover = pl.cover;
  {
    // Segments between the breakpoints of the selected pieces' destination ranges.
    std::vector<int64_t> cuts = {yoff, yoff + rows};
    for (int q : sel) {
      cuts.push_back(op.pieces[q].dst);
      cuts.push_back(op.pieces[q].dst + op.pieces[q].rows);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    tasks.clear();
    cover.clear();
    const int64_t tile = 32;
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
      const int64_t a = cuts[k], b = cuts[k + 1];
      if (a < yoff || b > yoff + rows) continue;
      const int first = (int)cover.size();
      for (int q : sel)
        if (op.pieces[q].dst <= a && op.pieces[q].dst + op.pieces[q].rows >= b) cover.push_back(q);
      for (int64_t r = a; r < b; r += tile) tasks.push_back({r, std::min(b, r + tile), first, (int)cover.size() - first});
    }
  }
  return pl;
}

void stage(const cleave_spectral_op& op, const Plan& pl, const double* x, int64_t ldx, int64_t xoff, double* y,
           int64_t ldy, int64_t yoff, int power, int c) {
  const std::vector<Task>& tasks = pl.tasks;
  const std::vector<int>& cover = pl.cover;
  const double* s = op.scale.data();
  const int64_t nt = (int64_t)tasks.size();
#pragma omp for schedule(dynamic, 1)
  for (int64_t t = 0; t < nt; ++t) {
    const Task& k = tasks[t];
    for (int64_t r = k.r0; r < k.r1; ++r) std::memset(y + (r - yoff) * ldy, 0, sizeof(double) * c);
    for (int q = 0; q < k.count; ++q) {
      const Piece& p = op.pieces[cover[k.first + q]];
      piece_rows(op, p, k.r0 - p.dst, k.r1 - p.dst, x, ldx, xoff, y, ldy, yoff, c);
    }
    for (int64_t r = k.r0; r < k.r1; ++r) {
      const double f = power == 2 ? s[r] * s[r] : s[r];
      double* yr = y + (r - yoff) * ldy;
      for (int j = 0; j < c; ++j) yr[j] *= f;
    }
  }
}

// Inside a parallel region: out[i][0:c] = s[i] * in[i][0:c] for rows [0, rows).
void scale_rows(int64_t rows, const double* s, const double* in, int64_t ldi, double* out, int64_t ldo, int c) {
#pragma omp for schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    const double f = s[i];
    for (int j = 0; j < c; ++j) out[i * ldo + j] = f * in[i * ldi + j];
  }
}

}  // namespace

int64_t dim(const cleave_spectral_op& op, int which) { return which == CLEAVE_SPECTRAL_M ? op.half : op.n; }

void apply(const cleave_spectral_op& op, int which, const double* x, int64_t ldx, double* y,
           int64_t ldy, int c, int threads, Work& work) {
  const int64_t n = op.n, S = op.half, T = op.n - op.half;
  double flops = 0.0;
  for (const Piece& p : op.pieces) flops += 2.0 * (double)p.entries() * c;
  if (flops < 4e6) threads = 1;  // tiny operators: waking a second thread costs more than it saves
  std::vector<int> all, s2t, t2s;
  for (int q = 0; q < (int)op.pieces.size(); ++q) {
    all.push_back(q);
    if (op.pieces[q].src < S && op.pieces[q].dst >= S) s2t.push_back(q);
    if (op.pieces[q].src >= S && op.pieces[q].dst < S) t2s.push_back(q);
  }
  if (which == CLEAVE_SPECTRAL_N) {
    work.t.resize((size_t)n * c);
    double* t = work.t.data();
    const Plan pn = plan(op, all, 0, n);
#pragma omp parallel num_threads(threads)
    {
      scale_rows(n, op.scale.data(), x, ldx, t, c, c);
      stage(op, pn, t, c, 0, y, ldy, 0, 1, c);
    }
  } else {
    work.t.resize((size_t)S * c);
    work.u.resize((size_t)T * c);
    double* t = work.t.data();
    double* u = work.u.data();
    const Plan p1 = plan(op, s2t, S, T), p2 = plan(op, t2s, 0, S);
#pragma omp parallel num_threads(threads)
    {
      scale_rows(S, op.scale.data(), x, ldx, t, c, c);
      stage(op, p1, t, c, 0, u, c, S, 2, c);
      stage(op, p2, u, c, S, y, ldy, 0, 1, c);
    }
  }
}

}  // namespace cleave::spectral

using cleave::spectral::Piece;

extern "C" int cleave_spectral_op_create(int64_t n, int64_t half, const double* scale,
                                         cleave_spectral_op** out) {
  CLEAVE_REQUIRE("spectral_op", out && scale, "scale and out must not be null");
  CLEAVE_REQUIRE("spectral_op", n > 0 && n <= INT32_MAX, "n must be in [1, 2^31), got %lld", (long long)n);
  CLEAVE_REQUIRE("spectral_op", half >= 0 && half < n, "half must be in [0, n), got %lld", (long long)half);
  for (int64_t i = 0; i < n; ++i)
    CLEAVE_REQUIRE("spectral_op", std::isfinite(scale[i]) && scale[i] > 0.0,
                   "scale[%lld] = %g must be finite and > 0 (a node of degree 0?)", (long long)i, scale[i]);
  cleave_spectral_op* op = new (std::nothrow) cleave_spectral_op();
  CLEAVE_REQUIRE("spectral_op", op, "out of memory");
  try {
    op->n = n;
    op->half = half;
    op->scale.assign(scale, scale + n);
  } catch (const std::bad_alloc&) {
    delete op;
    return cleave::set_error("spectral_op", __FILE__, __LINE__, "out of memory for %lld nodes", (long long)n);
  }
  *out = op;
  return cleave::ok();
}

namespace {
int check_range(const cleave_spectral_op* op, int64_t dst, int64_t rows, int64_t src, int64_t cols) {
  CLEAVE_REQUIRE("spectral_op", op, "op must not be null");
  CLEAVE_REQUIRE("spectral_op", rows > 0 && cols > 0 && dst >= 0 && src >= 0 && dst + rows <= op->n &&
                                    src + cols <= op->n,
                 "piece rows [%lld, %lld) x cols [%lld, %lld) must lie in [0, %lld)", (long long)dst,
                 (long long)(dst + rows), (long long)src, (long long)(src + cols), (long long)op->n);
  if (op->half > 0) {
    const bool s2t = src + cols <= op->half && dst >= op->half;
    const bool t2s = src >= op->half && dst + rows <= op->half;
    CLEAVE_REQUIRE("spectral_op", s2t || t2s,
                   "bipartite op (half = %lld): a piece must map side S to side T or T to S, got rows "
                   "[%lld, %lld) x cols [%lld, %lld)",
                   (long long)op->half, (long long)dst, (long long)(dst + rows), (long long)src,
                   (long long)(src + cols));
  }
  return 0;
}
}  // namespace

extern "C" int cleave_spectral_op_add_dense(cleave_spectral_op* op, int64_t dst, int64_t rows,
                                            int64_t src, int64_t cols, const float* a, int mirror, int threads) {
  CLEAVE_RETURN_IF(check_range(op, dst, rows, src, cols));
  if (mirror) CLEAVE_RETURN_IF(check_range(op, src, cols, dst, rows));
  CLEAVE_REQUIRE("spectral_op", a, "a must not be null");
  CLEAVE_REQUIRE("spectral_op", threads >= 1 && threads <= 1024, "threads must be in [1, 1024], got %d", threads);
  const int64_t total = rows * cols;
  int64_t bad = total;  // the first entry that is not finite and >= 0
#pragma omp parallel for schedule(static) num_threads(threads) reduction(min : bad) if (total > (1 << 18))
  for (int64_t i = 0; i < total; ++i)
    if (!(std::isfinite(a[i]) && a[i] >= 0.0f) && i < bad) bad = i;
  CLEAVE_REQUIRE("spectral_op", bad == total, "dense entry %lld = %g must be finite and >= 0", (long long)bad,
                 bad < total ? a[bad] : 0.0f);
  try {
    Piece p;
    p.dst = dst; p.rows = rows; p.src = src; p.cols = cols; p.dense = true;
    p.a.resize((size_t)total);
    float* copy = p.a.data();
#pragma omp parallel for schedule(static) num_threads(threads) if (total > (1 << 18))
    for (int64_t i = 0; i < rows; ++i) std::memcpy(copy + i * cols, a + i * cols, sizeof(float) * cols);
    if (mirror) {
      // The mirror's matrix is a^T (cols x rows), built in 16 x 16 tiles (a bigger tile's lines,
      // at a power-of-two stride, would crowd into one cache set), bands of 16 output rows
      // spread over the threads.
      Piece m;
      m.dst = src; m.rows = cols; m.src = dst; m.cols = rows; m.dense = true;
      m.a.resize((size_t)total);
      const int64_t B = 16;
      float* out = m.a.data();
#pragma omp parallel for schedule(static) num_threads(threads) if (total > (1 << 18))
      for (int64_t j0 = 0; j0 < cols; j0 += B)
        for (int64_t i0 = 0; i0 < rows; i0 += B) {
          const int64_t j1 = std::min(cols, j0 + B), i1 = std::min(rows, i0 + B);
          for (int64_t j = j0; j < j1; ++j)
            for (int64_t i = i0; i < i1; ++i) out[j * rows + i] = a[i * cols + j];
        }
      p.twin = (int64_t)op->pieces.size() + 1;
      m.twin = (int64_t)op->pieces.size();
      op->pieces.push_back(std::move(p));
      op->pieces.push_back(std::move(m));
    } else {
      op->pieces.push_back(std::move(p));
    }
  } catch (const std::bad_alloc&) {
    return cleave::set_error("spectral_op", __FILE__, __LINE__, "out of memory for a %lld x %lld block",
                             (long long)rows, (long long)cols);
  }
  return cleave::ok();
}

extern "C" int cleave_spectral_op_add_csr(cleave_spectral_op* op, int64_t dst, int64_t rows, int64_t src,
                                          int64_t cols, const int64_t* offsets, const int32_t* columns,
                                          const float* weights) {
  CLEAVE_RETURN_IF(check_range(op, dst, rows, src, cols));
  CLEAVE_REQUIRE("spectral_op", offsets && (offsets[rows] == 0 || (columns && weights)),
                 "offsets, columns and weights must not be null");
  CLEAVE_REQUIRE("spectral_op", offsets[0] == 0, "offsets[0] must be 0, got %lld", (long long)offsets[0]);
  for (int64_t i = 0; i < rows; ++i)
    CLEAVE_REQUIRE("spectral_op", offsets[i + 1] >= offsets[i], "offsets must not decrease (row %lld)", (long long)i);
  const int64_t nnz = offsets[rows];
  for (int64_t e = 0; e < nnz; ++e) {
    CLEAVE_REQUIRE("spectral_op", columns[e] >= 0 && columns[e] < cols, "column %d at entry %lld is outside [0, %lld)",
                   columns[e], (long long)e, (long long)cols);
    CLEAVE_REQUIRE("spectral_op", std::isfinite(weights[e]) && weights[e] >= 0.0f,
                   "weight %g at entry %lld must be finite and >= 0", weights[e], (long long)e);
  }
  try {
    Piece p;
    p.dst = dst; p.rows = rows; p.src = src; p.cols = cols; p.dense = false;
    p.off.assign(offsets, offsets + rows + 1);
    p.col.assign(columns, columns + nnz);
    p.w.assign(weights, weights + nnz);
    op->pieces.push_back(std::move(p));
  } catch (const std::bad_alloc&) {
    return cleave::set_error("spectral_op", __FILE__, __LINE__, "out of memory for %lld entries", (long long)nnz);
  }
  return cleave::ok();
}

extern "C" void cleave_spectral_op_free(cleave_spectral_op* op) { delete op; }

extern "C" int64_t cleave_spectral_op_bytes(const cleave_spectral_op* op) {
  if (!op) return 0;
  int64_t b = (int64_t)sizeof(*op) + (int64_t)op->scale.size() * 8;
  for (const Piece& p : op->pieces)
    b += (int64_t)(p.a.size() * 4 + p.off.size() * 8 + p.col.size() * 4 + p.w.size() * 4);
  return b;
}

extern "C" double cleave_spectral_op_flops(const cleave_spectral_op* op, int which) {
  if (!op) return 0.0;
  double f = 0.0;
  for (const Piece& p : op->pieces) f += 2.0 * (double)p.entries();
  return f;  // N touches every piece once; M touches every piece once as well (S->T, then T->S)
}

extern "C" int cleave_spectral_op_apply(const cleave_spectral_op* op, int which, const double* x, double* y,
                                        int cols, int threads) {
  CLEAVE_REQUIRE("spectral_op_apply", op && x && y, "op, x and y must not be null");
  CLEAVE_REQUIRE("spectral_op_apply", which == CLEAVE_SPECTRAL_N || (which == CLEAVE_SPECTRAL_M && op->half > 0),
                 "which must be 0 (N) or, for a bipartite op, 1 (M); got %d", which);
  CLEAVE_REQUIRE("spectral_op_apply", cols >= 1, "cols must be >= 1, got %d", cols);
  CLEAVE_REQUIRE("spectral_op_apply", threads >= 1 && threads <= 1024, "threads must be in [1, 1024], got %d", threads);
  const int64_t d = cleave::spectral::dim(*op, which);
  const int c = cleave::spectral::round4(cols);
  try {
    cleave::spectral::Work work;
    if (c == cols) {
      cleave::spectral::apply(*op, which, x, cols, y, cols, c, threads, work);
    } else {
      std::vector<double> xp((size_t)d * c, 0.0), yp((size_t)d * c);
      for (int64_t i = 0; i < d; ++i) std::memcpy(&xp[i * c], x + i * cols, sizeof(double) * cols);
      cleave::spectral::apply(*op, which, xp.data(), c, yp.data(), c, c, threads, work);
      for (int64_t i = 0; i < d; ++i) std::memcpy(y + i * cols, &yp[i * c], sizeof(double) * cols);
    }
  } catch (const std::bad_alloc&) {
    return cleave::set_error("spectral_op_apply", __FILE__, __LINE__, "out of memory for %lld x %d vectors",
                             (long long)d, cols);
  }
  return cleave::ok();
}
