/* The op list of the Cleave CUDA library (an X-macro list): every function of cleave_cuda.h,
 * written once. Not a header of its own: no include guard, nothing declared. Whoever includes it
 * first defines
 *   CLEAVE_CUDA_OP(ret, name, params)         infrastructure (devices, memory, errors)
 *   CLEAVE_CUDA_KERNEL_OP(ret, name, params)  an op with a CPU counterpart of the same name
 * and gets one expansion per entry, in this order:
 *   - cuda/include/cleave_cuda.h: the prototypes (ret CLEAVE_CUDA_FN(name) params;) under the
 *     library's prefix (cleave_cuda_, or cleave_cuda_emu_ through cleave_cuda_emu.h), and the
 *     table struct cleave_cuda_api with one function pointer per entry, named as the entry;
 *   - cuda/src/runtime.cu and cuda/stub/cleave_cuda_stub.cpp: each library's table
 *     (cleave_cuda_table(), cleave_cuda_emu_table()), and the stub's failing kernels;
 *   - cuda/CMakeLists.txt: the ABI check programs (one reference to every entry per library);
 *   - Java: dev.cleave.nativ.CudaApi binds the table, one native method per entry (@Name(entry)),
 *     for both libraries; CudaParityChecks fails when an entry has no such method, or a kernel no
 *     parity test.
 * Keep one entry per line, starting with its macro. Conventions: see cleave_cuda.h. */
/* ---- library and devices ---- */
/* Message of the last failed call on this thread ("" if none). */
CLEAVE_CUDA_OP(const char*, last_error, (void))
/* What this library is: 1 = built by nvcc, 0 = the stub, 2 = the CPU emulation. */
CLEAVE_CUDA_OP(int, is_real, (void))
/* CUDA runtime version this library was built with (e.g. 13000), 0 for the stub. */
CLEAVE_CUDA_OP(int, runtime_version, (void))
/* Writes the driver's CUDA version (e.g. 13000), 0 when no driver was found. */
CLEAVE_CUDA_OP(int, driver_version, (int* version))
/* Writes the number of usable devices. Fails (with the reason in last_error) when there is no
 * driver, the driver is too old, or the library is the stub. */
CLEAVE_CUDA_OP(int, device_count, (int* count))
/* Describes device `index` without creating a context on it: name (into a buffer of name_len
 * bytes), compute capability, total memory in bytes, and what code this library holds for it,
 * decided from the compute capability and kernel_archs: 1 = SASS, 2 = PTX only (the driver must
 * compile it: see test_launch), 0 = none. */
CLEAVE_CUDA_OP(int, device_info, (int index, char* name, int name_len, int* major, int* minor, long long* total_mem, int* has_kernel_image))
/* The architectures compiled in (major * 10 + minor): up to `max` of each into sass and ptx. */
CLEAVE_CUDA_OP(int, kernel_archs, (int* sass, int* n_sass, int* ptx, int* n_ptx, int max))
/* Device `index`'s compute mode (cudaComputeMode: 0 default, 2 prohibited, 3 exclusive-process),
 * SM count and FP32:FP64 throughput ratio (2 on A100/H100, 32 or 64 on most other GPUs); no
 * context is created. */
CLEAVE_CUDA_OP(int, device_attrs, (int index, int* compute_mode, int* sm_count, int* fp64_ratio))
/* Makes device `index` the device of the process: it becomes current on the calling thread and
 * every later call from any host thread binds that thread to it first. Creates the device's
 * context, so a device that cannot give one (exclusive-process and busy, out of memory) fails
 * here with its CUDA error. Without a call, device 0 (the runtime's default) is used. */
CLEAVE_CUDA_OP(int, set_device, (int index))
/* Launches a tiny kernel on the process's device and waits for it: for a GPU that runs the PTX
 * this is where the driver compiles it (cudaErrorUnsupportedPtxVersion, 222: the PTX is newer
 * than the driver). */
CLEAVE_CUDA_OP(int, test_launch, (void))
/* The synchronous checking mode (on = 1): every kernel launch is followed by a device
 * synchronization, so a kernel that faults is reported by its own op, naming the kernel. Off by
 * default; CLEAVE_CUDA_SYNC=1 in the environment turns it on; this call overrides both.
 * sync_check() returns the current mode. */
CLEAVE_CUDA_OP(int, set_sync_check, (int on))
CLEAVE_CUDA_OP(int, sync_check, (void))
/* Free and total memory of the current device, in bytes. */
CLEAVE_CUDA_OP(int, mem_info, (int64_t* free_bytes, int64_t* total_bytes))

/* ---- device memory (all synchronous with respect to the host except memset) ---- */
/* Allocates `bytes` (>= 0) of device memory into *ptr (256-byte aligned; NULL for 0 bytes).
 * Device memory is not initialised. */
CLEAVE_CUDA_OP(int, malloc, (void** ptr, int64_t bytes))
/* Frees memory from malloc; NULL is a no-op. */
CLEAVE_CUDA_OP(int, free, (void* ptr))
/* Copies `bytes` host -> device, device -> host and device -> device. */
CLEAVE_CUDA_OP(int, memcpy_htod, (void* dst, const void* src, int64_t bytes))
CLEAVE_CUDA_OP(int, memcpy_dtoh, (void* dst, const void* src, int64_t bytes))
CLEAVE_CUDA_OP(int, memcpy_dtod, (void* dst, const void* src, int64_t bytes))
/* Sets `bytes` of device memory to the byte `value` (0 gives float 0.0f). */
CLEAVE_CUDA_OP(int, memset, (void* ptr, int value, int64_t bytes))
/* Waits for all work on the current device; reports any fault of an earlier kernel. */
CLEAVE_CUDA_OP(int, synchronize, (void))
/* Pinned (page-locked) host memory of `bytes` (>= 0; NULL for 0 bytes), the source that lets
 * memcpy_htod_async return at once; host_free releases it (waits for the device) and NULL is a
 * no-op. */
CLEAVE_CUDA_OP(int, host_alloc, (void** ptr, int64_t bytes))
CLEAVE_CUDA_OP(int, host_free, (void* ptr))
/* Queues a copy of `bytes` host -> device on the default stream, after the work queued before it,
 * and returns at once when src is pinned (host_alloc); from pageable memory the host waits. src
 * must not change until the copy has run (record an event after it and wait for that). */
CLEAVE_CUDA_OP(int, memcpy_htod_async, (void* dst, const void* src, int64_t bytes))
/* Events on the default stream: create (into *event), record (marks the work queued so far),
 * synchronize (the host waits until that work has run; reports a fault of it), destroy (NULL is
 * a no-op). */
CLEAVE_CUDA_OP(int, event_create, (void** event))
CLEAVE_CUDA_OP(int, event_record, (void* event))
CLEAVE_CUDA_OP(int, event_synchronize, (void* event))
CLEAVE_CUDA_OP(int, event_destroy, (void* event))

/* ==== kernels: each has a CPU counterpart of the same name and a parity test ==== */

/* linear_forward: y = x w^T + b, then ReLU when relu != 0. x (batch x in), w (out x in),
 * b (out) or NULL, y (batch x out). A tiled shared-memory GEMM with the bias and ReLU fused
 * into its epilogue. */
CLEAVE_CUDA_KERNEL_OP(int, linear_forward, (const float* x, const float* w, const float* b, float* y, int batch, int in, int out, int relu))

/* linear_backward: dy (batch x out) holds dL/dy on entry. When relu != 0, y is the layer's
 * (post-ReLU) output and dy is masked in place by (y > 0). Writes dw (out x in) = dy^T x and
 * db (out) = column sums of dy (both overwritten; db may be NULL), and dx (batch x in) = dy w
 * unless dx is NULL. */
CLEAVE_CUDA_KERNEL_OP(int, linear_backward, (const float* x, const float* w, const float* y, float* dy, float* dx, float* dw, float* db, int batch, int in, int out, int relu))

/* softmax_xent: logits (batch x classes), labels (batch, int32) in [0, classes). Writes
 * dlogits = (softmax - onehot) * grad_scale (dlogits may be NULL), and into HOST memory the sum
 * of the per-sample losses (*loss_sum) and the number of rows whose first argmax equals the
 * label (*correct). Fails, naming the first bad row, if a label is out of range or a row has a
 * non-finite logit (status CLEAVE_NUMERIC_FAILURE; a bad label is CLEAVE_INVALID_ARGUMENT). */
CLEAVE_CUDA_KERNEL_OP(int, softmax_xent, (const float* logits, const int32_t* labels, float* dlogits, int batch, int classes, float grad_scale, double* loss_sum, int32_t* correct))

/* dropout_forward: mask[i] = 1/(1-p) if u(seed, stream, i) >= p else 0 and x[i] *= mask[i],
 * with the counter-based uniform of dev.cleave.nn.Rng.uniform: the same bits as every other
 * backend. 0 <= p < 1. dropout_backward: dy[i] *= mask[i]. */
CLEAVE_CUDA_KERNEL_OP(int, dropout_forward, (float* x, float* mask, int64_t n, float p, uint64_t seed, uint64_t stream))
CLEAVE_CUDA_KERNEL_OP(int, dropout_backward, (float* dy, const float* mask, int64_t n))

/* weight_penalty: adds l1*sign(w) + 2*l2*w to g and writes l1*sum|w| + l2*sum w^2 into the
 * HOST double *value. l1, l2 >= 0. */
CLEAVE_CUDA_KERNEL_OP(int, weight_penalty, (const float* w, float* g, int64_t n, float l1, float l2, double* value))

/* adam_update: one fused Adam step (PyTorch's formulation, no weight decay), step >= 1:
 * m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 * w -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps).
 * When mask (device, 0 or 1) is not NULL, w is set to +0 wherever mask is 0, so pruned
 * weights stay 0. */
CLEAVE_CUDA_KERNEL_OP(int, adam_update, (float* w, const float* g, float* m, float* v, const float* mask, int64_t n, float lr, float beta1, float beta2, float eps, int64_t step))

/* ---- the fused training step (issue 17): the ops above fused so that an MLP step is one launch
 * per layer forward, one softmax_xent_record, one per layer backward and one adam_update_multi,
 * with no host synchronisation. Each computes bit for bit what the unfused ops compute. ---- */

/* linear_dropout_forward: linear_forward (y = x w^T + b, ReLU when relu != 0), then, when mask is
 * not NULL, dropout_forward on y in its epilogue: mask[i] = 1/(1-p) if u(seed, stream, i) >= p
 * else 0 and y[i] *= mask[i], i = row * out + column. mask NULL: p, seed and stream are unused. */
CLEAVE_CUDA_KERNEL_OP(int, linear_dropout_forward, (const float* x, const float* w, const float* b, float* y, float* mask, int batch, int in, int out, int relu, float p, uint64_t seed, uint64_t stream))

/* linear_dropout_backward: the backward pass of a layer whose input x is the output of a layer
 * below it after its ReLU (relu_x != 0) and dropout (x_mask, or NULL). dy (batch x out) holds
 * dL/d(pre-activation) of this layer and is not changed. Writes dw = dy^T x, db = column sums of
 * dy (db may be NULL; summed in linear_backward's order) and, unless dx is NULL,
 * dx = dL/d(pre-activation) of the layer below: (dy w) * x_mask, then 0 where x <= 0 when relu_x.
 * So linear_backward(relu = 0) followed by dropout_backward(dx, x_mask) and the ReLU mask of x,
 * in one launch. */
CLEAVE_CUDA_KERNEL_OP(int, linear_dropout_backward, (const float* x, const float* w, const float* x_mask, const float* dy, float* dx, float* dw, float* db, int batch, int in, int out, int relu_x))

/* softmax_xent_record: softmax_xent whose results stay where the tensors are (device memory
 * here): record (5 doubles) = {loss sum, correct count, first row with a label outside
 * [0, classes) or -1, that label, first row with a non-finite logit or -1}, the sums over the
 * good rows in softmax_xent's order (bit for bit its values when no row is bad). Bad rows never
 * fail the call: their dlogits are 0 and the caller reads the record later (CLEAVE_XENT_RECORD
 * doubles per record). */
CLEAVE_CUDA_KERNEL_OP(int, softmax_xent_record, (const float* logits, const int32_t* labels, float* dlogits, int batch, int classes, float grad_scale, double* record))

/* adam_update_multi: `count` tensors in one pass (HOST arrays of count device pointers and
 * values): for tensor t, g' = g[t] + l1[t] sign(w[t]) + 2 l2[t] w[t] when l1[t] or l2[t] is not 0
 * (weight_penalty's gradient, computed as it does; g itself is not changed), else g' = g[t];
 * then adam_update of w[t] with g', m[t], v[t], mask[t] (may be NULL) over n[t] values. */
CLEAVE_CUDA_KERNEL_OP(int, adam_update_multi, (int count, float* const* w, const float* const* g, float* const* m, float* const* v, const float* const* mask, const int64_t* n, const float* l1, const float* l2, float lr, float beta1, float beta2, float eps, int64_t step))

/* enmeshment: clusterability C of w (rows x cols x slice: a matrix with slice 1, a conv kernel
 * (out, in, kh, kw) with slice kh * kw) for row_labels (rows) and col_labels (cols) in [0, k),
 * 1 <= k <= 65536, slice >= 1 (cpu: native/include/cleave_modular.h):
 *   C = sum_{i,j,s: row_labels[i] == col_labels[j]} w_ijs^2 / S,  S = sum w^2  (0 when S == 0);
 * writes C into the HOST double *c_out and, unless grad is NULL, ADDS scale * dC/dw =
 * scale * (2 w_ijs / S) (1[row_labels[i] == col_labels[j]] - C) to grad (must not overlap w).
 * When S == 0 grad is unchanged. Fails (grad untouched) on a label out of range or a
 * non-finite S. */
CLEAVE_CUDA_KERNEL_OP(int, enmeshment, (const float* w, const int32_t* row_labels, const int32_t* col_labels, int rows, int cols, int slice, int k, float scale, float* grad, double* c_out))

/* ---- the spectral engine (cpu: native/include/cleave_spectral.h, the same names) ----
 * spectral_op: the normalized adjacency N = D^-1/2 A D^-1/2 of a graph (and, for a bipartite
 * graph whose first `half` nodes are the side S, the half operator M = N_ST N_TS) held on the
 * device. create/add_* take HOST arrays and upload them once (scale: n values d^-1/2 > 0;
 * a dense piece a (rows x cols, float, row-major, finite and >= 0) adds y[dst + i] +=
 * sum_j a_ij x[src + j] and, with mirror = 1, its transpose y[src + j] += sum_i a_ij x[dst + i],
 * read from the same copy; a CSR piece: offsets[rows + 1], columns relative to src). An op is
 * used by one host thread at a time (apply keeps its workspace in it). */
CLEAVE_CUDA_OP(int, spectral_op_create, (int64_t n, int64_t half, const double* scale, cleave_cuda_spectral_op** out))
CLEAVE_CUDA_OP(int, spectral_op_add_dense, (cleave_cuda_spectral_op* op, int64_t dst, int64_t rows, int64_t src, int64_t cols, const float* a, int mirror))
CLEAVE_CUDA_OP(int, spectral_op_add_csr, (cleave_cuda_spectral_op* op, int64_t dst, int64_t rows, int64_t src, int64_t cols, const int64_t* offsets, const int32_t* columns, const float* weights))
/* Frees the op and its device memory; NULL is a no-op. */
CLEAVE_CUDA_OP(int, spectral_op_free, (cleave_cuda_spectral_op* op))

/* spectral_op_apply: y = N x (which = 0; x, y device, n x cols row-major) or y = M x (which = 1;
 * half x cols). Pieces are added in order, each output element by one thread in the cpu's order. */
CLEAVE_CUDA_KERNEL_OP(int, spectral_op_apply, (const cleave_cuda_spectral_op* op, int which, const double* x, double* y, int cols))

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
CLEAVE_CUDA_KERNEL_OP(int, block_gram, (int64_t n, const double* x, int64_t ldx, int a, const double* y, int64_t ldy, int b, double* g))
CLEAVE_CUDA_KERNEL_OP(int, block_sub_mul, (int64_t n, const double* x, int64_t ldx, int a, const double* g, double* y, int64_t ldy, int b))
CLEAVE_CUDA_KERNEL_OP(int, block_mul_square, (int64_t n, double* x, int64_t ldx, int c, const double* q))
CLEAVE_CUDA_KERNEL_OP(int, block_residuals, (int64_t n, const double* x, const double* ax, int64_t ld, int k, const double* theta, double* out))
CLEAVE_CUDA_KERNEL_OP(int, block_chebyshev_step, (int64_t count, double f, double c, double g, const double* y0, const double* y1, double* y2))
CLEAVE_CUDA_KERNEL_OP(int, block_copy, (int64_t n, const double* src, int64_t lds, int s0, double* dst, int64_t ldd, int d0, int c))

/* kmeans_assign: for n points x (n x d, device) and k centers (k x d, device; d <= 4096): labels[i]
 * (int32) = the nearest center, ties to the lowest index, dist[i] = its squared distance. */
CLEAVE_CUDA_KERNEL_OP(int, kmeans_assign, (const double* x, int64_t n, int d, const double* centers, int k, int32_t* labels, double* dist))

/* ---- convolutional ops (issue 11; cpu: native/include/cleave_cpu.h, the same names, shapes and
 * semantics). NCHW float32, conv weight (out, in, k, k); argmax int32. Hand-written kernels:
 * conv2d as implicit GEMMs (forward y = W * patches(x); dx = W^T-correlation gathered per input
 * pixel, so no atomics; dw = dy * patches(x)^T), the tiled shared-memory scheme of linear.cu;
 * maxpool backward gathers per input pixel over the windows that contain it; batchnorm reduces
 * one channel per block in a fixed order. Deterministic. */
CLEAVE_CUDA_KERNEL_OP(int, conv2d_forward, (const float* x, const float* w, const float* b, float* y, int batch, int in_channels, int height, int width, int out_channels, int kernel, int stride, int padding, int relu))
CLEAVE_CUDA_KERNEL_OP(int, conv2d_backward, (const float* x, const float* w, const float* y, float* dy, float* dx, float* dw, float* db, int batch, int in_channels, int height, int width, int out_channels, int kernel, int stride, int padding, int relu))
CLEAVE_CUDA_KERNEL_OP(int, maxpool2d_forward, (const float* x, float* y, int32_t* argmax, int batch, int channels, int height, int width, int kernel, int stride))
CLEAVE_CUDA_KERNEL_OP(int, maxpool2d_backward, (const float* dy, const int32_t* argmax, float* dx, int batch, int channels, int height, int width, int kernel, int stride))
CLEAVE_CUDA_KERNEL_OP(int, batchnorm2d_forward, (const float* x, const float* gamma, const float* beta, float* running_mean, float* running_var, float* y, float* save_mean, float* save_inv_std, int batch, int channels, int height, int width, int training, float momentum, float eps))
CLEAVE_CUDA_KERNEL_OP(int, batchnorm2d_backward, (const float* x, const float* gamma, const float* save_mean, const float* save_inv_std, const float* dy, float* dx, float* dgamma, float* dbeta, int batch, int channels, int height, int width, int training))

/* ==== end of kernels ==== */
