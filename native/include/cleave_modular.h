/* Cleave modular-training kernels: the C ABI that Java binds through JavaCPP
 * (dev.cleave.nativ.ModularKernels). Part of libcleave_cpu; the conventions of cleave_cpu.h
 * hold (row-major float32, W is out x in, status 0 or an error in cleave_last_error(),
 * nothing here exits or aborts, Java validates first).
 */
#ifndef CLEAVE_MODULAR_H
#define CLEAVE_MODULAR_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Largest number of clusters the enmeshment kernel accepts. */
#define CLEAVE_ENMESHMENT_MAX_K 65536

/* ---- enmeshment: clusterability C of a weight matrix, and its gradient (G24's enmeshment loss) ----
 * w (rows x cols x slice, row-major: a matrix with slice 1, or a conv kernel (out, in, kh, kw)
 * with rows = out, cols = in, slice = kh * kw); row_labels (rows) and col_labels (cols) in
 * [0, k); cluster c pairs the rows labelled c with the columns labelled c. With S = sum w^2:
 *     C = sum_{i,j,s: row_labels[i] == col_labels[j]} w_ijs^2 / S        (0 when S == 0)
 *     dC/dw_ijs = (2 w_ijs / S) (1[row_labels[i] == col_labels[j]] - C)
 * (for a conv kernel, the in-block share of the squared kernel mass sum ||K[i, j, :, :]||^2).
 * Writes C into *c_out and, unless grad is NULL, ADDS scale * dC/dw into grad (rows x cols x
 * slice, must not overlap w). Fails if slice < 1 or rows * cols * slice > 2^31 - 9. When S == 0 (all-zero w) C is 0 and grad is left unchanged.
 * Fails (grad untouched) if a label is out of range, k is outside
 * [1, CLEAVE_ENMESHMENT_MAX_K], or S is not finite (a NaN or infinite weight, or |w| > 1e19).
 * Two passes over w: one reads w for S and the in-block sum, one reads w and grad and writes
 * grad. When every column label occupies one contiguous run of columns (for instance the
 * balanced partition) the in-block test is a column range per row; otherwise it is a label
 * compare per element. The result does not depend on the thread count. */
int cleave_enmeshment(const float* w, const int32_t* row_labels, const int32_t* col_labels,
                      int rows, int cols, int slice, int k, float scale, float* grad, double* c_out);

#ifdef __cplusplus
}
#endif
#endif
