// The native side of the eigensolver: the block kernels of the Chebyshev-filtered subspace
// iteration, whose one driver is Java (dev.cleave.cluster.ChebyshevEigensolver over NativeBlocks),
// the block application of the operator with a reusable workspace, and spectral_dense_eigs (the
// k largest eigenpairs of N or M from the dense matrix and LAPACK dsyevr, for small graphs).
//
// Orthonormalization: shifted Cholesky QR + 2 Cholesky QR passes, Householder (LAPACK) where
// Cholesky breaks down.
#include <lapacke.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>
#include "cleave_cpu.h"
#include "common.h"
#include "spectral_internal.h"

namespace cleave::spectral {
namespace {

// Fixed row chunks for reductions: depends on n only, never on the thread count.
inline int64_t chunk_rows(int64_t n) {
  const int64_t chunks = std::min<int64_t>(256, (n + 255) / 256);
  return (n + chunks - 1) / chunks;
}

// Cholesky G = R^T R (upper R, c x c, row-major) in place. False if G is not positive definite.
bool cholesky(double* g, int c) {
  for (int j = 0; j < c; ++j) {
    double d = g[j * c + j];
    for (int i = 0; i < j; ++i) d -= g[i * c + j] * g[i * c + j];
    if (!(d > 0.0) || !std::isfinite(d)) return false;
    const double r = std::sqrt(d);
    g[j * c + j] = r;
    for (int l = j + 1; l < c; ++l) {
      double s = g[j * c + l];
      for (int i = 0; i < j; ++i) s -= g[i * c + j] * g[i * c + l];
      g[j * c + l] = s / r;
    }
    for (int l = 0; l < j; ++l) g[j * c + l] = 0.0;
  }
  return true;
}

// X[:, 0:c] = X[:, 0:c] R^-1 (R upper c x c). Each row is an independent forward substitution
// whose steps form one long dependent chain; eight rows at a time (transposed into a c x 8 tile)
// run eight chains side by side in vector lanes. Every row still goes through the statements of
// the scalar substitution, in the same order (s = x_j, s -= x_l r_lj for l < j, x_j = s / r_jj).
// Built with GCC 12 the results equal the row-by-row loop's bit for bit (compared on random blocks
// of 1 to 20 columns and on the eigenpairs of three benchmark graphs); explicit std::fma would
// not: GCC does not fuse every step of the row-by-row loop.
void right_solve_upper(int64_t n, double* x, int64_t ldx, int c, const double* r, int threads) {
  constexpr int64_t W = 8;
#pragma omp parallel num_threads(threads) if (n * c * c > (1 << 20))
  {
    std::vector<double> tile((size_t)c * W);
    double* t = tile.data();
#pragma omp for schedule(static)
    for (int64_t i0 = 0; i0 < n; i0 += W) {
      const int64_t m = std::min(W, n - i0);
      for (int64_t v = 0; v < m; ++v)
        for (int j = 0; j < c; ++j) t[j * W + v] = x[(i0 + v) * ldx + j];
      for (int64_t v = m; v < W; ++v)
        for (int j = 0; j < c; ++j) t[j * W + v] = 0.0;
      for (int j = 0; j < c; ++j) {
        double s[W];
        for (int64_t v = 0; v < W; ++v) s[v] = t[j * W + v];
        for (int l = 0; l < j; ++l) {
          const double rl = r[l * c + j];
          for (int64_t v = 0; v < W; ++v) s[v] -= t[l * W + v] * rl;
        }
        const double d = r[j * c + j];
        for (int64_t v = 0; v < W; ++v) t[j * W + v] = s[v] / d;
      }
      for (int64_t v = 0; v < m; ++v)
        for (int j = 0; j < c; ++j) x[(i0 + v) * ldx + j] = t[j * W + v];
    }
  }
}

bool cholqr_pass(int64_t n, double* x, int64_t ldx, int c, int threads, bool shifted) {
  std::vector<double> g((size_t)c * c);
  gram(n, x, ldx, c, x, ldx, c, g.data(), threads);
  if (shifted) {
    double tr = 0.0;
    for (int j = 0; j < c; ++j) tr += g[j * c + j];
    const double s = 11.0 * ((double)n * c + (double)c * (c + 1)) * 1.1102230246251565e-16 * tr;
    for (int j = 0; j < c; ++j) g[j * c + j] += s;
  }
  if (!cholesky(g.data(), c)) return false;
  right_solve_upper(n, x, ldx, c, g.data(), threads);
  return true;
}

void householder_qr(int64_t n, double* x, int64_t ldx, int c) {
  std::vector<double> tau(c);
  LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)n, c, x, (lapack_int)ldx, tau.data());
  LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)n, c, c, x, (lapack_int)ldx, tau.data());
}

// Column norms of AX[:, j] - theta_j X[:, j], j < k, by fixed chunks.
void residual_norms(int64_t n, const double* x, const double* ax, int64_t ld, int k,
                    const double* theta, double* out, int threads) {
  const int64_t ch = chunk_rows(n), chunks = (n + ch - 1) / ch;
  std::vector<double> part((size_t)chunks * k, 0.0);
#pragma omp parallel for schedule(static) num_threads(threads) if (n * k > (1 << 20))
  for (int64_t b = 0; b < chunks; ++b) {
    double* pb = &part[b * k];
    const int64_t i1 = std::min(n, (b + 1) * ch);
    for (int64_t i = b * ch; i < i1; ++i)
      for (int j = 0; j < k; ++j) {
        const double r = ax[i * ld + j] - theta[j] * x[i * ld + j];
        pb[j] += r * r;
      }
  }
  for (int j = 0; j < k; ++j) {
    double s = 0.0;
    for (int64_t b = 0; b < chunks; ++b) s += part[b * k + j];
    out[j] = std::sqrt(s);
  }
}

// The Chebyshev filter's three-term step: y2 = f (y2 - c y1) - g y0 (without the last term when
// y0 is null, the filter's first step).
void chebyshev_step(int64_t count, double f, double c, double g, const double* y0, const double* y1, double* y2,
                    int threads) {
  if (!y0) {
    for (int64_t i = 0; i < count; ++i) y2[i] = f * (y2[i] - c * y1[i]);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(threads) if (count > (1 << 20))
  for (int64_t i = 0; i < count; ++i) y2[i] = f * (y2[i] - c * y1[i]) - g * y0[i];
}


// Entries [r0, r1) x [s0, s1) of one chunk's partial Gram matrix pc (a x b), rows [i0, i1): each
// entry is the sum over the rows in order of x_ir y_is, from zero.
inline void gram_part(int64_t i0, int64_t i1, const double* x, int64_t ldx, const double* y, int64_t ldy, int b,
                      int r0, int r1, int s0, int s1, double* pc) {
  for (int r = r0; r < r1; ++r)
    for (int s = s0; s < s1; ++s) pc[(size_t)r * b + s] = 0.0;
  for (int64_t i = i0; i < i1; ++i) {
    const double* xi = x + i * ldx;
    const double* yi = y + i * ldy;
    for (int r = r0; r < r1; ++r) {
      const double xr = xi[r];
      double* pr = pc + (size_t)r * b;
      for (int s = s0; s < s1; ++s) pr[s] = std::fma(xr, yi[s], pr[s]);
    }
  }
}

// The same for a 4 x 8 tile at (r0, s0), its 32 sums held in registers over the rows (the same
// fused multiply-adds in the same order as gram_part: the partial in memory started at zero as
// well). The FMAs are explicit: the compiler does not contract every vectorized form by itself.
inline void gram_tile(int64_t i0, int64_t i1, const double* x, int64_t ldx, const double* y, int64_t ldy, int b,
                      int r0, int s0, double* pc) {
  double acc[4][8] = {};
  for (int64_t i = i0; i < i1; ++i) {
    const double* xi = x + i * ldx + r0;
    const double* yi = y + i * ldy + s0;
    for (int r = 0; r < 4; ++r) {
      const double xr = xi[r];
      for (int s = 0; s < 8; ++s) acc[r][s] = std::fma(xr, yi[s], acc[r][s]);
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int s = 0; s < 8; ++s) pc[(size_t)(r0 + r) * b + s0 + s] = acc[r][s];
}

}  // namespace

void gram(int64_t n, const double* x, int64_t ldx, int a, const double* y, int64_t ldy, int b,
          double* g, int threads) {
  const int64_t ch = chunk_rows(n), chunks = (n + ch - 1) / ch;
  const size_t ab = (size_t)a * b;
  std::vector<double> part(chunks * ab, 0.0);
  const int a4 = a - a % 4, b8 = b - b % 8;
#pragma omp parallel for schedule(static) num_threads(threads) if (n * a * b > (1 << 20))
  for (int64_t c = 0; c < chunks; ++c) {
    double* pc = &part[c * ab];
    const int64_t i0 = c * ch, i1 = std::min(n, (c + 1) * ch);
    for (int r0 = 0; r0 < a4; r0 += 4)
      for (int s0 = 0; s0 < b8; s0 += 8) gram_tile(i0, i1, x, ldx, y, ldy, b, r0, s0, pc);
    if (b8 < b) gram_part(i0, i1, x, ldx, y, ldy, b, 0, a4, b8, b, pc);
    if (a4 < a) gram_part(i0, i1, x, ldx, y, ldy, b, a4, a, 0, b, pc);
  }
  std::fill(g, g + ab, 0.0);
  for (int64_t c = 0; c < chunks; ++c)
    for (size_t e = 0; e < ab; ++e) g[e] += part[c * ab + e];
}

// Y -= X G row by row; each element of a row subtracts its a products in order of r (one fused
// multiply-add each), eight elements held in registers across r.
void sub_mul(int64_t n, const double* x, int64_t ldx, int a, const double* g, double* y,
             int64_t ldy, int b, int threads) {
  const int b8 = b - b % 8;
#pragma omp parallel for schedule(static) num_threads(threads) if (n * a * b > (1 << 20))
  for (int64_t i = 0; i < n; ++i) {
    const double* xi = x + i * ldx;
    double* yi = y + i * ldy;
    for (int s0 = 0; s0 < b8; s0 += 8) {
      double acc[8];
      for (int s = 0; s < 8; ++s) acc[s] = yi[s0 + s];
      for (int r = 0; r < a; ++r) {
        const double xr = xi[r];
        const double* gr = g + (size_t)r * b + s0;
        for (int s = 0; s < 8; ++s) acc[s] = std::fma(-xr, gr[s], acc[s]);
      }
      for (int s = 0; s < 8; ++s) yi[s0 + s] = acc[s];
    }
    for (int r = 0; r < a; ++r) {
      const double xr = xi[r];
      const double* gr = g + (size_t)r * b;
      for (int s = b8; s < b; ++s) yi[s] = std::fma(-xr, gr[s], yi[s]);
    }
  }
}

void mul_square(int64_t n, double* x, int64_t ldx, int c, const double* q, int threads) {
#pragma omp parallel num_threads(threads) if (n * c * c > (1 << 20))
  {
    std::vector<double> row(c);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      double* xi = x + i * ldx;
      std::fill(row.begin(), row.end(), 0.0);
      for (int r = 0; r < c; ++r) {
        const double xr = xi[r];
        const double* qr = q + (size_t)r * c;
        for (int s = 0; s < c; ++s) row[s] += xr * qr[s];
      }
      std::memcpy(xi, row.data(), sizeof(double) * c);
    }
  }
}

void orthonormalize(int64_t n, double* x, int64_t ldx, int c, int threads) {
  if (cholqr_pass(n, x, ldx, c, threads, true) && cholqr_pass(n, x, ldx, c, threads, false) &&
      cholqr_pass(n, x, ldx, c, threads, false))
    return;
  householder_qr(n, x, ldx, c);
}

}  // namespace cleave::spectral

namespace cs = cleave::spectral;

// The workspace of block applications: the op stays immutable while a solve reuses its scratch.
struct cleave_spectral_work {
  cs::Work work;
};

extern "C" int cleave_spectral_work_create(cleave_spectral_work** out) {
  CLEAVE_REQUIRE("spectral_work_create", out, "out must not be null");
  *out = new (std::nothrow) cleave_spectral_work();
  if (!*out) return cleave::set_error("spectral_work_create", __FILE__, __LINE__, "out of memory");
  return cleave::ok();
}

extern "C" void cleave_spectral_work_free(cleave_spectral_work* work) { delete work; }

extern "C" int cleave_spectral_op_apply_block(const cleave_spectral_op* op, int which, const double* x, int64_t ldx,
                                              double* y, int64_t ldy, int cols, int threads,
                                              cleave_spectral_work* work) {
  const char* OP = "spectral_op_apply_block";
  CLEAVE_REQUIRE(OP, op && x && y && work, "op, x, y and work must not be null");
  CLEAVE_REQUIRE(OP, which == CLEAVE_SPECTRAL_N || (which == CLEAVE_SPECTRAL_M && op->half > 0),
                 "which must be 0 (N) or, for a bipartite op, 1 (M); got %d", which);
  CLEAVE_REQUIRE(OP, cols >= 4 && cols % 4 == 0 && ldx >= cols && ldy >= cols,
                 "cols must be a positive multiple of 4 within ldx and ldy; got cols = %d, ldx = %lld, ldy = %lld", cols,
                 (long long)ldx, (long long)ldy);
  CLEAVE_REQUIRE(OP, threads >= 1 && threads <= 1024, "threads must be in [1, 1024], got %d", threads);
  try {
    cs::apply(*op, which, x, ldx, y, ldy, cols, threads, work->work);
  } catch (const std::bad_alloc&) {
    return cleave::set_error(OP, __FILE__, __LINE__, "out of memory for %d vectors", cols);
  }
  return cleave::ok();
}

extern "C" int cleave_spectral_dense_eigs(const cleave_spectral_op* op, int which, int k, int threads,
                                          double* values, double* vectors, double* residuals) {
  const char* OP = "spectral_dense_eigs";
  CLEAVE_REQUIRE(OP, op && values && vectors && residuals, "op and the output arrays must not be null");
  CLEAVE_REQUIRE(OP, which == CLEAVE_SPECTRAL_N || (which == CLEAVE_SPECTRAL_M && op->half > 0),
                 "which must be 0 (N) or, for a bipartite op, 1 (M); got %d", which);
  const int64_t n = cs::dim(*op, which);
  CLEAVE_REQUIRE(OP, k >= 1 && k <= n, "need 1 <= k <= dim = %lld, got %d", (long long)n, k);
  CLEAVE_REQUIRE(OP, threads >= 1 && threads <= 1024, "threads must be in [1, 1024], got %d", threads);
  try {
    cs::Work work;
    std::vector<double> A((size_t)n * n), E, Y;
    const int64_t B = 64;
    for (int64_t c0 = 0; c0 < n; c0 += B) {
      const int cols = (int)std::min<int64_t>(B, n - c0), cw = cs::round4(cols);
      E.assign((size_t)n * cw, 0.0);
      Y.resize((size_t)n * cw);
      for (int j = 0; j < cols; ++j) E[(c0 + j) * cw + j] = 1.0;
      cs::apply(*op, which, E.data(), cw, Y.data(), cw, cw, threads, work);
      for (int j = 0; j < cols; ++j)  // symmetric: column c0 + j is row c0 + j
        for (int64_t i = 0; i < n; ++i) A[(c0 + j) * n + i] = Y[i * cw + j];
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < i; ++j) A[i * n + j] = A[j * n + i] = 0.5 * (A[i * n + j] + A[j * n + i]);
    std::vector<double> w(n), Z((size_t)n * k);
    std::vector<lapack_int> isuppz(2 * (size_t)k);
    lapack_int found = 0;
    const lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)n, A.data(), (lapack_int)n,
                                           0.0, 0.0, (lapack_int)(n - k + 1), (lapack_int)n, 0.0, &found, w.data(),
                                           Z.data(), k, isuppz.data());
    CLEAVE_REQUIRE(OP, info == 0 && found == k, "dsyevr failed on the %lld x %lld matrix (info %d, found %d of %d)",
                   (long long)n, (long long)n, (int)info, (int)found, k);
    for (int j = 0; j < k; ++j) {
      values[j] = w[k - 1 - j];
      for (int64_t i = 0; i < n; ++i) vectors[i * k + j] = Z[i * k + (k - 1 - j)];
    }
    // Residuals from the operator itself, not assumed from LAPACK.
    const int kw = cs::round4(k);
    E.assign((size_t)n * kw, 0.0);
    Y.resize((size_t)n * kw);
    for (int64_t i = 0; i < n; ++i) std::memcpy(&E[i * kw], vectors + i * k, sizeof(double) * k);
    cs::apply(*op, which, E.data(), kw, Y.data(), kw, kw, threads, work);
    for (int j = 0; j < k; ++j) {
      double s = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const double r = Y[i * kw + j] - values[j] * E[i * kw + j];
        s += r * r;
      }
      residuals[j] = std::sqrt(s);
    }
  } catch (const std::bad_alloc&) {
    return cleave::set_error(OP, __FILE__, __LINE__, "out of memory for a dense %lld x %lld matrix", (long long)n,
                             (long long)n);
  }
  return cleave::ok();
}

// ---- the block kernels, exported for the parity tests of their CUDA twins ----

namespace {
int check_block(const char* op, int64_t n, int64_t ld, int cols, int threads) {
  CLEAVE_REQUIRE(op, n >= 0 && cols >= 0 && ld >= cols, "need n >= 0, cols >= 0 and ld >= cols; got n = %lld, "
                 "cols = %d, ld = %lld", (long long)n, cols, (long long)ld);
  CLEAVE_REQUIRE(op, threads >= 1 && threads <= 1024, "threads must be in [1, 1024], got %d", threads);
  return 0;
}
}  // namespace

extern "C" int cleave_block_gram(int64_t n, const double* x, int64_t ldx, int a, const double* y, int64_t ldy, int b,
                                 double* g, int threads) {
  const char* OP = "block_gram";
  CLEAVE_REQUIRE(OP, x && y && g, "x, y and g must not be null");
  CLEAVE_RETURN_IF(check_block(OP, n, ldx, a, threads));
  CLEAVE_RETURN_IF(check_block(OP, n, ldy, b, threads));
  try {
    cs::gram(n, x, ldx, a, y, ldy, b, g, threads);
  } catch (const std::bad_alloc&) {
    return cleave::set_error(OP, __FILE__, __LINE__, "out of memory");
  }
  return cleave::ok();
}

extern "C" int cleave_block_sub_mul(int64_t n, const double* x, int64_t ldx, int a, const double* g, double* y,
                                    int64_t ldy, int b, int threads) {
  const char* OP = "block_sub_mul";
  CLEAVE_REQUIRE(OP, x && y && g, "x, g and y must not be null");
  CLEAVE_RETURN_IF(check_block(OP, n, ldx, a, threads));
  CLEAVE_RETURN_IF(check_block(OP, n, ldy, b, threads));
  cs::sub_mul(n, x, ldx, a, g, y, ldy, b, threads);
  return cleave::ok();
}

extern "C" int cleave_block_mul_square(int64_t n, double* x, int64_t ldx, int c, const double* q, int threads) {
  const char* OP = "block_mul_square";
  CLEAVE_REQUIRE(OP, x && q, "x and q must not be null");
  CLEAVE_RETURN_IF(check_block(OP, n, ldx, c, threads));
  try {
    cs::mul_square(n, x, ldx, c, q, threads);
  } catch (const std::bad_alloc&) {
    return cleave::set_error(OP, __FILE__, __LINE__, "out of memory");
  }
  return cleave::ok();
}

extern "C" int cleave_block_residuals(int64_t n, const double* x, const double* ax, int64_t ld, int k,
                                      const double* theta, double* out, int threads) {
  const char* OP = "block_residuals";
  CLEAVE_REQUIRE(OP, x && ax && theta && out, "x, ax, theta and out must not be null");
  CLEAVE_RETURN_IF(check_block(OP, n, ld, k, threads));
  try {
    cs::residual_norms(n, x, ax, ld, k, theta, out, threads);
  } catch (const std::bad_alloc&) {
    return cleave::set_error(OP, __FILE__, __LINE__, "out of memory");
  }
  return cleave::ok();
}

extern "C" int cleave_block_chebyshev_step(int64_t count, double f, double c, double g, const double* y0,
                                           const double* y1, double* y2, int threads) {
  const char* OP = "block_chebyshev_step";
  CLEAVE_CHECK_BLOCK_CHEBYSHEV_STEP(OP, y1, y2, count);
  CLEAVE_REQUIRE(OP, threads >= 1 && threads <= 1024, "threads must be in [1, 1024], got %d", threads);
  cs::chebyshev_step(count, f, c, g, y0, y1, y2, threads);
  return cleave::ok();
}

extern "C" int cleave_block_orthonormalize(int64_t n, double* x, int64_t ldx, int c, int threads) {
  const char* OP = "block_orthonormalize";
  CLEAVE_REQUIRE(OP, x, "x must not be null");
  CLEAVE_RETURN_IF(check_block(OP, n, ldx, c, threads));
  CLEAVE_REQUIRE(OP, c <= n, "need c <= n for an orthonormal basis; got c = %d, n = %lld", c, (long long)n);
  try {
    cs::orthonormalize(n, x, ldx, c, threads);
  } catch (const std::bad_alloc&) {
    return cleave::set_error(OP, __FILE__, __LINE__, "out of memory");
  }
  return cleave::ok();
}

extern "C" int cleave_block_copy(int64_t n, const double* src, int64_t lds, int s0, double* dst, int64_t ldd, int d0,
                                 int c) {
  const char* OP = "block_copy";
  CLEAVE_CHECK_BLOCK_COPY(OP, n, src, lds, s0, dst, ldd, d0, c);
  for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ldd + d0, src + i * lds + s0, sizeof(double) * c);
  return cleave::ok();
}
