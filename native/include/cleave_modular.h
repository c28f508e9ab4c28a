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
 * w (rows x cols); row_labels (rows) and col_labels (cols) in [0, k); cluster c pairs the rows
 * labelled c with the columns labelled c. With S = sum w^2:
 *     C = sum_{i,j: row_labels[i] == col_labels[j]} w_ij^2 / S          (0 when S == 0)
 *     dC/dw_ij = (2 w_ij / S) (1[row_labels[i] == col_labels[j]] - C)
 * Writes C into *c_out and, unless grad is NULL, ADDS scale * dC/dw into grad (rows x cols,
 * must not overlap w). When S == 0 (all-zero w) C is 0 and grad is left unchanged.
 * Fails (grad untouched) if a label is out of range, k is outside
 * [1, CLEAVE_ENMESHMENT_MAX_K], or S is not finite (a NaN or infinite weight, or |w| > 1e19).
 * Two passes over w: one reads w for S and the in-block sum, one reads w and grad and writes
 * grad. When every column label occupies one contiguous run of columns (for instance the
 * balanced partition) the in-block test is a column range per row; otherwise it is a label
 * compare per element. The result does not depend on the thread count. */
int cleave_enmeshment(const float* w, const int32_t* row_labels, const int32_t* col_labels,
                      int rows, int cols, int k, float scale, float* grad, double* c_out);

#ifdef __cplusplus
}
#endif
#endif
