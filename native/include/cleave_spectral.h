/* Cleave spectral engine: the C ABI that Java binds through JavaCPP
 * (dev.cleave.nativ.SpectralKernels). Java validates every argument first; the checks here are a
 * second line of defence. Every function returns 0 on success or a nonzero status, and
 * cleave_last_error() (cleave_cpu.h) then names the op, the source file and line, and the fault.
 * Nothing here exits or aborts the process.
 *
 * Ops (one name everywhere: C++, Java binding, Java reference, tests, benchmarks):
 *  - spectral_op:    the normalized adjacency N = D^-1/2 A D^-1/2 of a graph, applied to a block
 *                    of vectors without forming it, and, for bipartite graphs, the half operator
 *                    M = N_ST N_TS on the side S (its eigenvalues are the squared singular values
 *                    of N_ST). A is stored as "pieces": dense float blocks (the layers of a
 *                    network graph) or CSR blocks; the op owns copies of them.
 *  - spectral_op_apply_block and the block_* kernels: the building blocks of the
 *                    Chebyshev-filtered subspace iteration, whose one driver is Java
 *                    (dev.cleave.cluster.ChebyshevEigensolver).
 *  - spectral_dense_eigs: the same pairs from the dense matrix and LAPACK dsyevr (small graphs).
 *  - kmeans:         k-means++ (greedy, 2 + floor(ln k) local trials) with Lloyd iterations,
 *                    n_init restarts in parallel, the lowest inertia kept.
 *
 * Blocks of vectors are row-major (rows = nodes, columns = vectors). Determinism: no result
 * depends on the thread count (reductions use fixed chunks summed in order).
 */
#ifndef CLEAVE_SPECTRAL_H
#define CLEAVE_SPECTRAL_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct cleave_spectral_op cleave_spectral_op;

/* Which operator: the full normalized adjacency (size n) or the bipartite half (size half). */
#define CLEAVE_SPECTRAL_N 0
#define CLEAVE_SPECTRAL_M 1

/* ---- spectral_op: construction ----
 * n nodes; the first `half` nodes are the side S of a bipartition (0 = not bipartite; then only
 * N is available). scale[n] = d^-1/2 > 0. The op starts with no pieces. */
int cleave_spectral_op_create(int64_t n, int64_t half, const double* scale, cleave_spectral_op** out);
/* Adds y[dst + i] += sum_j a[i][j] x[src + j] for a dense block a (rows x cols, row-major) and,
 * with mirror = 1, also its mirror y[src + j] += sum_i a[i][j] x[dst + i] (the op stores a
 * transposed copy for it): the two off-diagonal blocks of a symmetric operator in one call.
 * Entries must be finite and >= 0. The check and the copies run on `threads` threads. */
int cleave_spectral_op_add_dense(cleave_spectral_op* op, int64_t dst, int64_t rows, int64_t src,
                                 int64_t cols, const float* a, int mirror, int threads);
/* Adds a CSR block: rows rows, column indices in [0, cols) (relative to src), offsets[rows + 1]. */
int cleave_spectral_op_add_csr(cleave_spectral_op* op, int64_t dst, int64_t rows, int64_t src,
                               int64_t cols, const int64_t* offsets, const int32_t* columns,
                               const float* weights);
void cleave_spectral_op_free(cleave_spectral_op* op);
/* Bytes of native memory the op holds. */
int64_t cleave_spectral_op_bytes(const cleave_spectral_op* op);
/* Floating-point operations of one application to one vector (2 per stored entry it touches). */
double cleave_spectral_op_flops(const cleave_spectral_op* op, int which);

/* ---- spectral_op: application ----
 * y = N x (which = 0; x, y are n x cols) or y = M x (which = 1; half x cols). */
int cleave_spectral_op_apply(const cleave_spectral_op* op, int which, const double* x, double* y,
                             int cols, int threads);

/* ---- block application with a reusable workspace (the eigensolver's inner loop) ----
 * y = op x for cols vectors, cols a positive multiple of 4, with leading dimensions ldx, ldy >= cols.
 * The workspace holds scratch space between calls (one thread at a time per workspace). */
typedef struct cleave_spectral_work cleave_spectral_work;
int cleave_spectral_work_create(cleave_spectral_work** out);
void cleave_spectral_work_free(cleave_spectral_work* work);
int cleave_spectral_op_apply_block(const cleave_spectral_op* op, int which, const double* x, int64_t ldx,
                                   double* y, int64_t ldy, int cols, int threads, cleave_spectral_work* work);

/* ---- spectral_dense_eigs: k largest eigenpairs from the dense matrix (LAPACK dsyevr) ----
 * Forms the dim x dim matrix by applying the op to the identity; needs 8 dim^2 bytes.
 * values[k] descending, vectors (dim x k), residuals[k] (computed, not assumed). */
int cleave_spectral_dense_eigs(const cleave_spectral_op* op, int which, int k, int threads,
                               double* values, double* vectors, double* residuals);

/* ---- kmeans: k-means++ with n_init restarts, the lowest inertia kept ----
 * x (n x d) row-major. Restart r draws its random numbers from seeds[r] alone (counter-based,
 * the same generator as dev.cleave.cluster.KMeans.uniform), so the result does not depend on
 * threads. Lloyd stops when no label changes, when the squared center shift falls to
 * tol * (mean per-dimension variance of x), or after max_iter iterations. Empty clusters take
 * the point farthest from its center. Ties between restarts go to the lowest index.
 * Outputs: labels[n] (raw, not canonical), centers (k x d), inertia[0], stats[0] = Lloyd
 * iterations of the kept restart, stats[1] = index of the kept restart. */
int cleave_kmeans(const double* x, int64_t n, int d, int k, int n_init, int max_iter, double tol,
                  const uint64_t* seeds, int threads, int32_t* labels, double* centers,
                  double* inertia, int32_t* stats);


/* ---- block kernels: the deterministic building blocks of the eigensolver and kmeans ----
 * Exported so the CUDA kernels of the same names (cuda/include/cleave_cuda.h) are checked
 * against them. Blocks are row-major with the leading dimensions given; reductions over rows
 * use fixed chunks summed in order, so no result depends on `threads`.
 *  block_gram:        g (a x b) = X[:, 0:a]^T Y[:, 0:b]   (n rows)
 *  block_sub_mul:     Y[:, 0:b] -= X[:, 0:a] g             (g a x b)
 *  block_mul_square:  X[:, 0:c] = X[:, 0:c] q, in place    (q c x c)
 *  block_residuals:   out[j] = ||AX[:, j] - theta_j X[:, j]||, j < k (X, AX share ld)
 *  block_chebyshev_step: y2[i] = f (y2[i] - c y1[i]) - g y0[i] for i < count (y0 may be NULL:
 *                     the last term is left out), the three-term step of the Chebyshev filter
 *  block_copy:        dst[i][d0 + j] = src[i][s0 + j] for i < n, j < c
 *  block_orthonormalize: replaces X[:, 0:c] by an orthonormal basis of its span (shifted
 *                     Cholesky QR + two Cholesky QR passes; Householder QR on breakdown), c <= n
 *  kmeans_assign:     for n points x (n x d) and k centers (k x d): labels[i] = the nearest
 *                     center (ties to the lowest index), dist[i] = its squared distance. */
int cleave_block_gram(int64_t n, const double* x, int64_t ldx, int a, const double* y, int64_t ldy, int b,
                      double* g, int threads);
int cleave_block_sub_mul(int64_t n, const double* x, int64_t ldx, int a, const double* g, double* y,
                         int64_t ldy, int b, int threads);
int cleave_block_mul_square(int64_t n, double* x, int64_t ldx, int c, const double* q, int threads);
int cleave_block_residuals(int64_t n, const double* x, const double* ax, int64_t ld, int k,
                           const double* theta, double* out, int threads);
int cleave_block_chebyshev_step(int64_t count, double f, double c, double g, const double* y0,
                                const double* y1, double* y2, int threads);
int cleave_block_orthonormalize(int64_t n, double* x, int64_t ldx, int c, int threads);
int cleave_block_copy(int64_t n, const double* src, int64_t lds, int s0, double* dst, int64_t ldd, int d0,
                      int c);
int cleave_kmeans_assign(const double* x, int64_t n, int d, const double* centers, int k, int32_t* labels,
                         double* dist);

#ifdef __cplusplus
}
#endif
#endif
