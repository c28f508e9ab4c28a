/* Cleave CPU kernels: the C ABI that Java binds through JavaCPP (dev.cleave.nativ.CpuKernels).
 *
 * Conventions, shared by every op:
 *  - Matrices are row-major float32. A linear layer's weight W is (out x in), as in PyTorch.
 *  - Every function returns 0 on success or a nonzero cleave_status (cleave_status.h);
 *    cleave_last_error() then holds
 *    a message naming the op, the source file and line, and what was wrong. Nothing here
 *    exits or aborts the process. Java validates arguments before calling; the checks here
 *    are a second line of defence.
 *  - Op names match the Java Backend methods, the CUDA kernels, the tests and the benchmarks.
 */
#ifndef CLEAVE_CPU_H
#define CLEAVE_CPU_H
#include <stdint.h>
#include "cleave_status.h"
#ifdef __cplusplus
extern "C" {
#endif

/* ---- library ---- */
const char* cleave_last_error(void);
/* Threads used by the kernels (OpenMP). OpenBLAS is set to 1 thread: the kernels split work
 * themselves and call it from each thread. n >= 1. n is also the partition: a kernel splits its
 * work into at most n parts fixed by n and the shapes alone, so results depend on n and never on
 * how many threads run the parts (the team). Sets a team of n, not adaptive. */
int cleave_set_threads(int n);
/* As cleave_set_threads(n), then the team adapts to the load: every 250 ms the CPU time other
 * processes used on this process's CPUs (/proc/stat less this process's own) sets it, by
 * cleave_team_decision. Results stay those of cleave_set_threads(n). */
int cleave_set_threads_adaptive(int n);
/* A fixed team of n threads (1 <= n <= the threads set) running the partition of
 * cleave_set_threads; adaptation off. For tests that compare teams. */
int cleave_set_team(int n);
/* The team the next kernel runs with. */
int cleave_get_team(void);
/* The adaptive rule: the next team, from the current one, the threads set (max) and the cores
 * the other processes leave free. It moves only when free_cores differs from team by more than
 * 0.6 (hysteresis), then to free_cores rounded towards the old team, within [1, max]. */
int cleave_team_decision(int team, int max, double free_cores);
/* OpenBLAS's own thread count, for benchmarks that time sgemm alone (SgemmBench). n >= 1. */
int cleave_set_blas_threads(int n);
int cleave_get_threads(void);
/* One line describing the build: compiler, SIMD level in use, OpenBLAS configuration. */
const char* cleave_build_info(void);

/* ---- spectral_canonical, spectral_canonical_backward, spectral_gradient ----
 * The spectral regulariser's work outside the eigensolver (reference:
 * dev.cleave.train.SpectralRegularizer, matched bit for bit). widths[0..layers], input first;
 * weights packed layer after layer (layer l: widths[l+1] x widths[l], row-major), biases packed
 * the same way; factors: one per hidden unit, packed like the biases of layers 0..layers-2.
 *  - spectral_canonical: cw, cb = the canonical form of (w, b): each hidden unit's incoming
 *    weights and bias scaled to norm sqrt(2) (its factor, 0 for a dead unit, into factors), the
 *    compensation on its outgoing weights, then each logit row scaled to norm sqrt(2) (the logit
 *    biases copied as they are).
 *  - spectral_canonical_backward: turns gw, gb (the gradient with respect to cw, cb) into the
 *    gradient with respect to w, b, in place; w, b and factors as given to and by
 *    spectral_canonical.
 *  - spectral_gradient: ADDS to grad the gradient of -(lambda / k) * sum_p mu_p, mu_p the k
 *    eigenvalues of the normalized adjacency of w's graph (an edge of weight |w| per weight), with
 *    unit eigenvectors vectors (k x all nodes, row p the p-th, 0 on nodes of degree 0). */
int cleave_spectral_canonical(const int32_t* widths, int layers, const float* w, const float* b, float* cw,
                              float* cb, double* factors);
int cleave_spectral_canonical_backward(const int32_t* widths, int layers, const float* w, const float* b,
                                       const double* factors, float* gw, float* gb);
int cleave_spectral_gradient(const int32_t* widths, int layers, const float* w, int k, const double* mu,
                             const double* vectors, float lambda, float* grad);
/*  - spectral_reg_graph: refills an op built from a network graph of these widths (every node
 *    kept, every layer a dense piece and its mirror, layer l's nodes at operator rows
 *    rows_at[l]..) with the graph of w: |w| into the pieces, the degrees (summed as
 *    dev.cleave.graph.NetworkGraph.fromWeights sums them) and the scale d^-1/2 into degree[n],
 *    scale[n] (operator order) and the op; |w| also into abs (packed like w). counts[0] = the
 *    number of weights that are not finite (when it is not 0 the op's contents are unspecified:
 *    build the graph the general way), counts[1 + l] = the weights of layer l that are 0 (kept in
 *    the dense pieces as edges of weight 0); counts holds layers + 1 values. */
typedef struct cleave_spectral_op cleave_spectral_op;
int cleave_spectral_reg_graph(cleave_spectral_op* op, const int32_t* widths, int layers, const float* w,
                              const int64_t* rows_at, float* abs, double* degree, double* scale,
                              int64_t* counts);

/* ---- linear_forward: y = x w^T + b, then ReLU when relu != 0 ----
 * x (batch x in), w (out x in), b (out) or NULL, y (batch x out). */
int cleave_linear_forward(const float* x, const float* w, const float* b, float* y,
                          int batch, int in, int out, int relu);

/* ---- linear_backward ----
 * dy (batch x out) holds dL/dy on entry. When relu != 0, y is the layer's (post-ReLU)
 * output and dy is masked in place by (y > 0), so on return dy = dL/d(pre-activation).
 * Writes dw (out x in) = dy^T x and db (out) = column sums of dy (both overwritten; db may be
 * NULL), and dx (batch x in) = dy w unless dx is NULL (the first layer needs no dx). */
int cleave_linear_backward(const float* x, const float* w, const float* y, float* dy,
                           float* dx, float* dw, float* db, int batch, int in, int out,
                           int relu);

/* ---- softmax_xent: softmax cross-entropy, forward and backward fused ----
 * logits (batch x classes), labels (batch) in [0, classes). Writes dlogits =
 * (softmax - onehot) * grad_scale (dlogits may be NULL for evaluation), the sum of the
 * per-sample losses into *loss_sum and the number of rows whose argmax equals the label
 * into *correct. Fails if a label is out of range or a logit is not finite. */
int cleave_softmax_xent(const float* logits, const int32_t* labels, float* dlogits,
                        int batch, int classes, float grad_scale, double* loss_sum,
                        int32_t* correct);

/* ---- dropout_forward / dropout_backward (inverted dropout) ----
 * mask[i] = 1/(1-p) if u(seed, stream, i) >= p else 0, where u is the counter-based uniform
 * of dev.cleave.nn.Rng.uniform (same bits on every backend); x[i] *= mask[i] in place.
 * backward: dy[i] *= mask[i] in place. 0 <= p < 1. */
int cleave_dropout_forward(float* x, float* mask, int64_t n, float p, uint64_t seed,
                           uint64_t stream);
int cleave_dropout_backward(float* dy, const float* mask, int64_t n);

/* ---- weight_penalty: L1/L2 penalty l1*sum|w| + l2*sum w^2 ----
 * Adds its gradient (l1*sign(w) + 2*l2*w) to g and writes the penalty into *value. */
int cleave_weight_penalty(const float* w, float* g, int64_t n, float l1, float l2,
                          double* value);

/* ---- adam_update: one fused pass of Adam (PyTorch's formulation, no weight decay) ----
 * m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 * w -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps).   step >= 1.
 * When mask is not NULL, w is set to +0 wherever mask is 0 (pruned weights stay 0). */
int cleave_adam_update(float* w, const float* g, float* m, float* v, const float* mask, int64_t n,
                       float lr, float beta1, float beta2, float eps, int64_t step);

/* ---- the fused training step: the CUDA library's fused ops (cuda/include/cleave_cuda_ops.h,
 * the same names and semantics); here the unfused kernels above in sequence, the dropout of
 * linear_dropout_forward and the dx masking of linear_dropout_backward done slab by slab in the GEMMs'
 * epilogues (the same operations per element). ----
 * linear_dropout_forward: linear_forward, then dropout_forward on y when mask is not NULL.
 * linear_dropout_backward: dy = dL/d(pre-activation), unchanged; dw, db (may be NULL) as
 *   linear_backward; dx (may be NULL) = (dy w) * x_mask (may be NULL), then 0 where x <= 0 when
 *   relu_x: the pre-activation gradient of the layer below, whose ReLU + dropout output is x.
 * softmax_xent_record: softmax_xent's sums over the good rows into record (CLEAVE_XENT_RECORD
 *   doubles: loss sum, correct, first bad-label row or -1, its label, first non-finite row or -1);
 *   bad rows get dlogits 0 and never fail the call.
 * adam_update_multi: for each of count tensors, adam_update with g + weight_penalty's gradient
 *   (l1[t], l2[t]; none when both are 0), g unchanged. */
#ifndef CLEAVE_XENT_RECORD
#define CLEAVE_XENT_RECORD 5
#endif
int cleave_linear_dropout_forward(const float* x, const float* w, const float* b, float* y, float* mask,
                                  int batch, int in, int out, int relu, float p, uint64_t seed,
                                  uint64_t stream);
int cleave_linear_dropout_backward(const float* x, const float* w, const float* x_mask, const float* dy,
                                   float* dx, float* dw, float* db, int batch, int in, int out, int relu_x);
int cleave_softmax_xent_record(const float* logits, const int32_t* labels, float* dlogits, int batch,
                               int classes, float grad_scale, double* record);
int cleave_adam_update_multi(int count, float* const* w, const float* const* g, float* const* m,
                             float* const* v, const float* const* mask, const int64_t* n,
                             const float* l1, const float* l2, float lr, float beta1, float beta2,
                             float eps, int64_t step);

/* ---- load_batch: the rows of one minibatch ----
 * images (rows x features, row-major) and labels (rows): x (batch x features) row r = image
 * order[first + r] (first + r when order is NULL), y[r] = its label. Fails on an index outside
 * [0, rows). */
int cleave_load_batch(const float* images, const int32_t* labels, int rows, const int32_t* order, int first,
                      int batch, int features, float* x, int32_t* y);

/* ---- prune_mask: magnitude pruning of one weight tensor ----
 * Sets mask[i] = 0 for the round(sparsity * n) entries of smallest |w| (ties broken by lower
 * index first) and 1 elsewhere, and zeroes w where mask is 0. 0 <= sparsity <= 1.
 * Entries already pruned (w == 0) are the smallest, so a rising schedule keeps them pruned. */
int cleave_prune_mask(float* w, float* mask, int64_t n, float sparsity);

/* ==== convolutional ops (issue 11): NCHW float32, conv weight (out, in, k, k) as PyTorch ==== */

/* ---- conv2d_forward: y = conv(x, w) + b, then ReLU when relu != 0 ----
 * x (batch, in_channels, height, width), w (out_channels, in_channels, kernel, kernel),
 * b (out_channels) or NULL, y (batch, out_channels, oh, ow) with
 * oh = (height + 2 padding - kernel) / stride + 1 (floor), ow likewise; zero padding. */
int cleave_conv2d_forward(const float* x, const float* w, const float* b, float* y, int batch,
                          int in_channels, int height, int width, int out_channels, int kernel,
                          int stride, int padding, int relu);

/* ---- conv2d_backward ----
 * dy (as y) holds dL/dy on entry; when relu != 0, y is the layer's (post-ReLU) output and dy is
 * masked in place by (y > 0). Writes (overwrites) dw (as w), db (out_channels; may be NULL) and
 * dx (as x) unless dx is NULL. */
int cleave_conv2d_backward(const float* x, const float* w, const float* y, float* dy, float* dx,
                           float* dw, float* db, int batch, int in_channels, int height, int width,
                           int out_channels, int kernel, int stride, int padding, int relu);

/* ---- maxpool2d_forward / maxpool2d_backward: kernel x kernel windows, stride, no padding ----
 * x (batch, channels, height, width), y and argmax (batch, channels, oh, ow),
 * oh = (height - kernel) / stride + 1. argmax = ih * width + iw of each window's maximum within
 * its plane (first maximum in row-major order; NaN wins). backward: dx = 0, then
 * dx[plane][argmax] += dy; fails if an argmax lies outside its plane. */
int cleave_maxpool2d_forward(const float* x, float* y, int32_t* argmax, int batch, int channels,
                             int height, int width, int kernel, int stride);
int cleave_maxpool2d_backward(const float* dy, const int32_t* argmax, float* dx, int batch,
                              int channels, int height, int width, int kernel, int stride);

/* ---- batchnorm2d_forward: torch.nn.BatchNorm2d (affine) ----
 * x, y (batch, channels, height, width); gamma, beta, running_mean, running_var, save_mean,
 * save_invstd (channels). training != 0: per channel mean and biased variance over
 * (n, h, w) (batch * height * width > 1), running_mean = (1 - momentum) running_mean +
 * momentum mean, running_var likewise with the unbiased variance. training == 0: the running
 * statistics. y = gamma (x - mean) / sqrt(var + eps) + beta. Writes the mean and
 * 1/sqrt(var + eps) used into save_mean and save_invstd unless NULL. */
int cleave_batchnorm2d_forward(const float* x, const float* gamma, const float* beta,
                               float* running_mean, float* running_var, float* y, float* save_mean,
                               float* save_invstd, int batch, int channels, int height, int width,
                               int training, float momentum, float eps);

/* ---- batchnorm2d_backward ----
 * With the forward pass's save_mean and save_invstd: dbeta = sum dy, dgamma = sum dy xhat
 * (xhat = (x - mean) invstd); training != 0: dx = gamma invstd (dy - dbeta/m - xhat dgamma/m),
 * m = batch * height * width; training == 0: dx = gamma invstd dy. All outputs overwritten. */
int cleave_batchnorm2d_backward(const float* x, const float* gamma, const float* save_mean,
                                const float* save_invstd, const float* dy, float* dx, float* dgamma,
                                float* dbeta, int batch, int channels, int height, int width,
                                int training);
/* ==== end of convolutional ops ==== */

#ifdef __cplusplus
}
#endif
#endif
