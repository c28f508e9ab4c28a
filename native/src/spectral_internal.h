// Internals shared by the spectral_*.cpp files: the operator's layout, its application with a
// reusable workspace, and the deterministic block kernels the eigensolver is built from.
#ifndef CLEAVE_SPECTRAL_INTERNAL_H
#define CLEAVE_SPECTRAL_INTERNAL_H
#include <cstdint>
#include <vector>
#include "cleave_spectral.h"

namespace cleave::spectral {

// One block of A: y[dst + i] += sum_j A_ij x[src + j]. Dense blocks hold float row-major
// (rows x cols); CSR blocks hold offsets/columns/weights with columns relative to src. A dense
// block added with its mirror names it in twin (the index of the piece holding A^T; -1: none),
// whose matrix the application reads as this block's column-major copy.
struct Piece {
  int64_t dst = 0, rows = 0, src = 0, cols = 0;
  bool dense = true;
  int64_t twin = -1;
  std::vector<float> a;
  std::vector<int64_t> off;
  std::vector<int32_t> col;
  std::vector<float> w;
  int64_t entries() const { return dense ? rows * cols : (int64_t)w.size(); }
};

// Per-call scratch space of an application, reused across the applications of one solve so an
// op stays immutable (and safe to share between threads) while calls avoid reallocation.
struct Work {
  std::vector<double> t, u, z;
};

// Rounds a column count up to the kernels' width (4 doubles: one AVX2 register).
inline int round4(int c) { return (c + 3) & ~3; }

}  // namespace cleave::spectral

struct cleave_spectral_op {
  int64_t n = 0, half = 0;
  std::vector<double> scale;
  std::vector<cleave::spectral::Piece> pieces;
};

namespace cleave::spectral {

// y = op x for a block of c columns (c a multiple of 4), row-major with leading dims ldx, ldy.
// Call from outside any parallel region; it opens its own with `threads` threads.
void apply(const cleave_spectral_op& op, int which, const double* x, int64_t ldx, double* y,
           int64_t ldy, int c, int threads, Work& work);
int64_t dim(const cleave_spectral_op& op, int which);

// Deterministic block kernels (row-major, leading dims given). Reductions over rows use fixed
// chunks whose partial sums are added in order, so results never depend on the thread count.
// G (a x b, row-major) = X[:, 0:a]^T Y[:, 0:b]
void gram(int64_t n, const double* x, int64_t ldx, int a, const double* y, int64_t ldy, int b,
          double* g, int threads);
// Y[:, 0:b] -= X[:, 0:a] G  (G a x b)
void sub_mul(int64_t n, const double* x, int64_t ldx, int a, const double* g, double* y,
             int64_t ldy, int b, int threads);
// X[:, 0:c] = X[:, 0:c] Q  (Q c x c), in place
void mul_square(int64_t n, double* x, int64_t ldx, int c, const double* q, int threads);
// Orthonormalizes the c columns of X in place: shifted Cholesky QR then two Cholesky QR passes
// (sCholQR3, stable up to condition numbers near 1/eps), Householder QR where Cholesky breaks
// down (rank-deficient blocks).
void orthonormalize(int64_t n, double* x, int64_t ldx, int c, int threads);

}  // namespace cleave::spectral
#endif
