/* Cleave CUDA library: the C ABI shared by the nvcc-built library (cuda/src, libcleave_cuda),
 * its stub (cuda/stub, built where nvcc is absent) and the CPU emulation of the same kernel
 * sources (cuda/emu, libcleave_cuda_emu, where every name below carries the prefix
 * cleave_cuda_emu_ instead of cleave_cuda_: see cleave_cuda_emu.h).
 *
 * Conventions, shared by every function:
 *  - Every function returns 0 on success or a nonzero cleave_status (cleave_status.h); the message of the last failure
 *    on the calling thread is last_error(), naming the op, what was wrong and the source line.
 *    Nothing here exits or aborts the process. Java validates arguments first; the checks here
 *    are a second line of defence.
 *  - Kernels take DEVICE pointers (from malloc below) for every array and HOST pointers for
 *    scalar results (double* loss_sum, int32_t* correct, double* value, double* c_out). Their
 *    arguments mirror the cpu ABI (native/include/cleave_cpu.h, cleave_modular.h) name for
 *    name and in the same order, so a backend calls both the same way. Matrices are row-major
 *    float32; a linear layer's weight is (out x in).
 *  - Everything runs on the calling thread's current device and the legacy default stream, in
 *    call order. Kernels without a host result return once launched (launch errors are
 *    reported at once, faults during execution by the next call that synchronizes:
 *    synchronize(), a memcpy, or an op with a host result). Ops with a host result
 *    (softmax_xent, weight_penalty, enmeshment) wait for their kernels and copy the result back.
 *  - Results do not depend on timing: reductions are two-pass (per-block partials, then one
 *    block in a fixed order) except softmax_xent's loss sum, which adds one double per row with
 *    atomicAdd (its last bits may vary from run to run; correct counts are exact).
 *
 * Every function is declared through CLEAVE_CUDA_FN (infrastructure) or CLEAVE_CUDA_KERNEL
 * (an op with a CPU counterpart). cuda/CMakeLists.txt links a check program against every
 * library built from this header (real, stub, emulated), so a function missing from any of
 * them fails the build; java/src/test/java/dev/cleave/cuda/CudaParityChecks.java reads the
 * CLEAVE_CUDA_KERNEL lines and fails when a kernel has no parity test. Keep one declaration per
 * line, starting with its return type.
 */
#ifndef CLEAVE_CUDA_H
#define CLEAVE_CUDA_H
#include <stdint.h>
#include "cleave_status.h" /* native/include: the status codes every function returns */

#ifndef CLEAVE_CUDA_FN
#define CLEAVE_CUDA_FN(name) cleave_cuda_##name
#endif
#define CLEAVE_CUDA_KERNEL(name) CLEAVE_CUDA_FN(name)

#ifdef __cplusplus
extern "C" {
#endif

/* ---- library and devices ---- */
/* Message of the last failed call on this thread ("" if none). */
const char* CLEAVE_CUDA_FN(last_error)(void);
/* What this library is: 1 = built by nvcc, 0 = the stub, 2 = the CPU emulation. */
int CLEAVE_CUDA_FN(is_real)(void);
/* CUDA runtime version this library was built with (e.g. 13000), 0 for the stub. */
int CLEAVE_CUDA_FN(runtime_version)(void);
/* Writes the driver's CUDA version (e.g. 13000), 0 when no driver was found. */
int CLEAVE_CUDA_FN(driver_version)(int* version);
/* Writes the number of usable devices. Fails (with the reason in last_error) when there is no
 * driver, the driver is too old, or the library is the stub. */
int CLEAVE_CUDA_FN(device_count)(int* count);
/* Describes device `index`: name (into a buffer of name_len bytes), compute capability,
 * total memory in bytes, and whether this library holds a kernel image for it. */
int CLEAVE_CUDA_FN(device_info)(int index, char* name, int name_len, int* major, int* minor, long long* total_mem, int* has_kernel_image);
/* Makes device `index` current for the calling thread (default 0). */
int CLEAVE_CUDA_FN(set_device)(int index);
/* Free and total memory of the current device, in bytes. */
int CLEAVE_CUDA_FN(mem_info)(int64_t* free_bytes, int64_t* total_bytes);

/* ---- device memory (all synchronous with respect to the host except memset) ---- */
/* Allocates `bytes` (>= 0) of device memory into *ptr (256-byte aligned; NULL for 0 bytes).
 * Device memory is not initialised. */
int CLEAVE_CUDA_FN(malloc)(void** ptr, int64_t bytes);
/* Frees memory from malloc; NULL is a no-op. */
int CLEAVE_CUDA_FN(free)(void* ptr);
/* Copies `bytes` host -> device, device -> host and device -> device. */
int CLEAVE_CUDA_FN(memcpy_htod)(void* dst, const void* src, int64_t bytes);
int CLEAVE_CUDA_FN(memcpy_dtoh)(void* dst, const void* src, int64_t bytes);
int CLEAVE_CUDA_FN(memcpy_dtod)(void* dst, const void* src, int64_t bytes);
/* Sets `bytes` of device memory to the byte `value` (0 gives float 0.0f). */
int CLEAVE_CUDA_FN(memset)(void* ptr, int value, int64_t bytes);
/* Waits for all work on the current device; reports any fault of an earlier kernel. */
int CLEAVE_CUDA_FN(synchronize)(void);

/* ==== kernels: each has a CPU counterpart of the same name and a parity test ==== */

/* linear_forward: y = x w^T + b, then ReLU when relu != 0. x (batch x in), w (out x in),
 * b (out) or NULL, y (batch x out). A tiled shared-memory GEMM with the bias and ReLU fused
 * into its epilogue. */
int CLEAVE_CUDA_KERNEL(linear_forward)(const float* x, const float* w, const float* b, float* y, int batch, int in, int out, int relu);

/* linear_backward: dy (batch x out) holds dL/dy on entry. When relu != 0, y is the layer's
 * (post-ReLU) output and dy is masked in place by (y > 0). Writes dw (out x in) = dy^T x and
 * db (out) = column sums of dy (both overwritten; db may be NULL), and dx (batch x in) = dy w
 * unless dx is NULL. */
int CLEAVE_CUDA_KERNEL(linear_backward)(const float* x, const float* w, const float* y, float* dy, float* dx, float* dw, float* db, int batch, int in, int out, int relu);

/* softmax_xent: logits (batch x classes), labels (batch, int32) in [0, classes). Writes
 * dlogits = (softmax - onehot) * grad_scale (dlogits may be NULL), and into HOST memory the sum
 * of the per-sample losses (*loss_sum) and the number of rows whose first argmax equals the
 * label (*correct). Fails, naming the first bad row, if a label is out of range or a row has a
 * non-finite logit (the message then contains "non-finite"). */
int CLEAVE_CUDA_KERNEL(softmax_xent)(const float* logits, const int32_t* labels, float* dlogits, int batch, int classes, float grad_scale, double* loss_sum, int32_t* correct);

/* dropout_forward: mask[i] = 1/(1-p) if u(seed, stream, i) >= p else 0 and x[i] *= mask[i],
 * with the counter-based uniform of dev.cleave.nn.Rng.uniform: the same bits as every other
 * backend. 0 <= p < 1. dropout_backward: dy[i] *= mask[i]. */
int CLEAVE_CUDA_KERNEL(dropout_forward)(float* x, float* mask, int64_t n, float p, uint64_t seed, uint64_t stream);
int CLEAVE_CUDA_KERNEL(dropout_backward)(float* dy, const float* mask, int64_t n);

/* weight_penalty: adds l1*sign(w) + 2*l2*w to g and writes l1*sum|w| + l2*sum w^2 into the
 * HOST double *value. l1, l2 >= 0. */
int CLEAVE_CUDA_KERNEL(weight_penalty)(const float* w, float* g, int64_t n, float l1, float l2, double* value);

/* adam_update: one fused Adam step (PyTorch's formulation, no weight decay), step >= 1:
 * m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 * w -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps).
 * When mask (device, 0 or 1) is not NULL, w is set to +0 wherever mask is 0, so pruned
 * weights stay 0. */
int CLEAVE_CUDA_KERNEL(adam_update)(float* w, const float* g, float* m, float* v, const float* mask, int64_t n, float lr, float beta1, float beta2, float eps, int64_t step);

/* enmeshment: clusterability C of w (rows x cols) for row_labels (rows) and col_labels (cols)
 * in [0, k), 1 <= k <= 65536 (cpu: native/include/cleave_modular.h):
 *   C = sum_{i,j: row_labels[i] == col_labels[j]} w_ij^2 / S,  S = sum w^2  (0 when S == 0);
 * writes C into the HOST double *c_out and, unless grad is NULL, ADDS scale * dC/dw =
 * scale * (2 w_ij / S) (1[row_labels[i] == col_labels[j]] - C) to grad (must not overlap w).
 * When S == 0 grad is unchanged. Fails (grad untouched) on a label out of range or a
 * non-finite S. */
int CLEAVE_CUDA_KERNEL(enmeshment)(const float* w, const int32_t* row_labels, const int32_t* col_labels, int rows, int cols, int k, float scale, float* grad, double* c_out);

/* ---- the spectral engine (cpu: native/include/cleave_spectral.h, the same names) ----
 * spectral_op: the normalized adjacency N = D^-1/2 A D^-1/2 of a graph (and, for a bipartite
 * graph whose first `half` nodes are the side S, the half operator M = N_ST N_TS) held on the
 * device. create/add_* take HOST arrays and upload them once (scale: n values d^-1/2 > 0;
 * a dense piece a (rows x cols, float, row-major, finite and >= 0) adds y[dst + i] +=
 * sum_j a_ij x[src + j] and, with mirror = 1, its transpose y[src + j] += sum_i a_ij x[dst + i],
 * read from the same copy; a CSR piece: offsets[rows + 1], columns relative to src). An op is
 * used by one host thread at a time (apply keeps its workspace in it). */
typedef struct cleave_cuda_spectral_op cleave_cuda_spectral_op;
int CLEAVE_CUDA_FN(spectral_op_create)(int64_t n, int64_t half, const double* scale, cleave_cuda_spectral_op** out);
int CLEAVE_CUDA_FN(spectral_op_add_dense)(cleave_cuda_spectral_op* op, int64_t dst, int64_t rows, int64_t src, int64_t cols, const float* a, int mirror);
int CLEAVE_CUDA_FN(spectral_op_add_csr)(cleave_cuda_spectral_op* op, int64_t dst, int64_t rows, int64_t src, int64_t cols, const int64_t* offsets, const int32_t* columns, const float* weights);
/* Frees the op and its device memory; NULL is a no-op. */
int CLEAVE_CUDA_FN(spectral_op_free)(cleave_cuda_spectral_op* op);

/* spectral_op_apply: y = N x (which = 0; x, y device, n x cols row-major) or y = M x (which = 1;
 * half x cols). Pieces are added in order, each output element by one thread in the cpu's order. */
int CLEAVE_CUDA_KERNEL(spectral_op_apply)(const cleave_cuda_spectral_op* op, int which, const double* x, double* y, int cols);

/* Block kernels of the eigensolver (device blocks, row-major, leading dimensions given; the
 * cpu versions also take `threads`). Reductions over rows use the cpu's fixed row chunks, per-chunk
 * partials summed in order: results never depend on timing.
 *  block_gram:       g (device, a x b) = X[:, 0:a]^T Y[:, 0:b]
 *  block_sub_mul:    Y[:, 0:b] -= X[:, 0:a] g   (g device, a x b)
 *  block_mul_square: X[:, 0:c] = X[:, 0:c] q in place (q device, c x c; c <= 256)
 *  block_residuals:  out[j] = ||AX[:, j] - theta_j X[:, j]|| for j < k; theta and out are HOST
 *                    arrays of k values (waits for the result)
 *  block_chebyshev_step: y2 = f (y2 - c y1) - g y0 over count values (y0 NULL: no last term)
 *  block_copy:       dst[i][d0 + j] = src[i][s0 + j], i < n, j < c */
int CLEAVE_CUDA_KERNEL(block_gram)(int64_t n, const double* x, int64_t ldx, int a, const double* y, int64_t ldy, int b, double* g);
int CLEAVE_CUDA_KERNEL(block_sub_mul)(int64_t n, const double* x, int64_t ldx, int a, const double* g, double* y, int64_t ldy, int b);
int CLEAVE_CUDA_KERNEL(block_mul_square)(int64_t n, double* x, int64_t ldx, int c, const double* q);
int CLEAVE_CUDA_KERNEL(block_residuals)(int64_t n, const double* x, const double* ax, int64_t ld, int k, const double* theta, double* out);
int CLEAVE_CUDA_KERNEL(block_chebyshev_step)(int64_t count, double f, double c, double g, const double* y0, const double* y1, double* y2);
int CLEAVE_CUDA_KERNEL(block_copy)(int64_t n, const double* src, int64_t lds, int s0, double* dst, int64_t ldd, int d0, int c);

/* kmeans_assign: for n points x (n x d, device) and k centers (k x d, device; d <= 4096): labels[i]
 * (int32) = the nearest center, ties to the lowest index, dist[i] = its squared distance. */
int CLEAVE_CUDA_KERNEL(kmeans_assign)(const double* x, int64_t n, int d, const double* centers, int k, int32_t* labels, double* dist);

/* ==== end of kernels ==== */

#ifdef __cplusplus
}
#endif
#endif
