/* Cleave circuit kernels: the exact greedy search for a label's effective circuit (G24:
 * weights zeroed from the last layer back, each kept zeroed while the label's loss does not
 * rise), bound to Java through JavaCPP (dev.cleave.nativ.CircuitsKernels). Conventions
 * as in cleave_cpu.h: row-major float32 weights (out x in), status 0 on success, otherwise
 * cleave_last_error() names the op, the file and line, and what was wrong.
 *
 * Circuit arithmetic. The search compares the loss after each tentative pruning with the
 * unpruned loss using a tolerance-free <=, so the loss must be a deterministic function of
 * the weights, whatever order the sums are taken in (a full forward pass sums in one order,
 * an incremental update in another). Every quantity is therefore an integer count of the
 * grid 2^-S (S = scale_bits):
 *   input      h0[j] = rint(x[j] * 2^S)
 *   layer l    z[i]  = rint(b[i] * 2^S) + sum_j rint(w[i][j] * h[j])   (exact product, fma)
 *   hidden     h[i]  = max(z[i], 0)
 *   loss       CE    = log(sum_c exp((z[c] - z_max) 2^-S)) + (z_max - z[label]) 2^-S, in double,
 *              stored as rint(min(CE, 2^16) * 2^32)
 * rint rounds half to even. Each product is rounded once, from its exact value (one fused
 * multiply-add), and the sums are exact int64 additions, so removing one term from a sum gives
 * exactly the sum recomputed without it.
 * The caller picks S so that every |product| and |sum| stays below 2^50 for any pruning of
 * the weights (Java: dev.cleave.circuits.CircuitArithmetic). A label's loss total is the sum
 * of its images' stored losses (at most 16384 images, so it cannot overflow).
 */
#ifndef CLEAVE_CIRCUITS_H
#define CLEAVE_CIRCUITS_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* The search state of one label: weights, cached pre-activations of every image, losses. */
typedef struct cleave_circuit cleave_circuit;

/* ---- circuit_loss: the per-image losses of an MLP in circuit arithmetic ----
 * widths[0..layers]; weights = every layer's (out x in) matrix, first layer first, back to
 * back; biases likewise; images (count x widths[0]) in [0, 1], all of class label. Writes
 * losses[n] (units of 2^-32). The naive search calls this once per weight. */
int cleave_circuit_loss(int layers, const int32_t* widths, const float* weights,
                        const float* biases, const float* images, int count, int label,
                        int scale_bits, int64_t* losses);

/* ---- circuit_new: the search state for one label (same arguments as circuit_loss) ----
 * Copies everything and runs the forward pass; the loss total it finds is the baseline.
 * Returns NULL on failure. Free with cleave_circuit_free. */
cleave_circuit* cleave_circuit_new(int layers, const int32_t* widths, const float* weights,
                                   const float* biases, const float* images, int count,
                                   int label, int scale_bits);

/* ---- circuit_prune: the greedy search over rows [row_begin, row_end) of layer `layer` ----
 * For each weight in row-major order: if it is non-zero, zero it tentatively and keep it
 * zeroed iff the label's loss total stays <= the baseline. The loss is updated, not
 * recomputed: activations below `layer` are fixed during its pass, the trial changes one
 * output unit, and the change is carried upward only through images, units and weights it
 * reaches. Adds the number of weights tried to *trials. Layers must be searched last to
 * first for the result to be the effective circuit. */
int cleave_circuit_prune(cleave_circuit* circuit, int layer, int row_begin, int row_end,
                         int64_t* trials);

/* ---- circuit_state: the current weights (layout as in circuit_new) and loss totals ----
 * totals[0] = baseline, totals[1] = current (units of 2^-32). */
int cleave_circuit_state(const cleave_circuit* circuit, float* weights, int64_t* totals);

void cleave_circuit_free(cleave_circuit* circuit);

#ifdef __cplusplus
}
#endif
#endif
