// softmax_xent: softmax cross-entropy, loss and gradient fused, one warp per row (8 rows per
// 256-thread block). Each lane walks its columns (j = lane, lane + 32, ...) once for the max and
// its first index, once for sum exp(z - max); warp shuffles (xor butterflies, so every lane ends
// with the row's values) combine them. Lane 0 writes the row's (loss, hit) pair to a per-row
// array (zeros for a bad row); then every lane writes its columns of dlogits. sum_pairs adds the
// pairs in a fixed order, so the loss sum is bit-identical from run to run and on every GPU, and
// the correct count (a sum of 0s and 1s in double) is exact. A bad label or a non-finite logit marks the row with atomicMin, so the host
// reports the first bad row as the cpu kernel does (a label error before a non-finite logit of
// the same row). Compared with the cpu kernel: float exp and sum instead of double, so dlogits
// agree to about 1e-6 relative and the loss sum to about 1e-6 per row.
//
// softmax_xent_record (the training step's, issue 17) does the same rows in one launch with no
// host round trip: the last block to finish (a ticket from a per-thread device counter) sums the
// rows exactly as sum_pairs does and writes the record (loss, correct, first bad rows) to device
// memory, where the caller reads it every few steps.
//
// Timed by cuda/bench/cuda_kernel_bench.cu (command in its header).
#include <climits>
#include "common.cuh"

namespace {
constexpr int kRowsPerBlock = 8;
constexpr int kThreads = kRowsPerBlock * 32;

struct XentScratch {
  double2 total;       // (loss sum, correct count) from sum_pairs
  int bad_label_row;   // first row with a label outside [0, classes), INT_MAX if none
  int nonfinite_row;   // first row with a non-finite max or exp-sum, INT_MAX if none
};

// Row `row` of the batch, by one warp: writes rows[row] = (loss, 1 if the first argmax is the
// label) and the row of dlogits (unless NULL); a bad row gets (0, 0) and, when zero_bad, a zero
// row of dlogits (else its dlogits are not written). Returns in every lane 0, or 1 for a label
// outside [0, classes), or 2 for a non-finite logit (a bad label first).
__device__ __forceinline__ int xent_row(const float* logits, const int32_t* labels, float* dlogits,
                                        int row, int classes, float grad_scale, double2* rows,
                                        bool zero_bad) {
  const int lane = threadIdx.x % 32;
  const float* z = logits + (int64_t)row * classes;

  // Max and its first index. NaN never wins a comparison; it surfaces in the sum below.
  float mx = -INFINITY;
  int arg = INT_MAX;
  for (int j = lane; j < classes; j += 32) {
    const float v = z[j];
    if (v > mx) {
      mx = v;
      arg = j;
    }
  }
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float om = __shfl_xor_sync(0xffffffffu, mx, offset);
    const int oa = __shfl_xor_sync(0xffffffffu, arg, offset);
    if (om > mx || (om == mx && oa < arg)) {
      mx = om;
      arg = oa;
    }
  }
  float sum = 0.0f;
  for (int j = lane; j < classes; j += 32) sum += expf(z[j] - mx);
  sum = cleave_cuda::warp_sum(sum);

  const int32_t label = labels[row];
  const bool bad_label = label < 0 || label >= classes;
  // Row 0 of the cpu kernel starts its max at z[0]: a NaN there makes the max NaN. Here a NaN
  // anywhere makes the exp-sum NaN; either way the row fails as non-finite.
  const bool nonfinite = !isfinite(mx) || !isfinite(sum);
  if (bad_label || nonfinite) {
    if (lane == 0) rows[row] = make_double2(0.0, 0.0);
    if (dlogits && zero_bad) {
      float* d = dlogits + (int64_t)row * classes;
      for (int j = lane; j < classes; j += 32) d[j] = 0.0f;
    }
    return bad_label ? 1 : 2;
  }
  if (lane == 0)
    rows[row] = make_double2((double)logf(sum) + (double)mx - (double)z[label], arg == label ? 1.0 : 0.0);
  if (dlogits) {
    float* d = dlogits + (int64_t)row * classes;
    const float inv = 1.0f / sum;
    for (int j = lane; j < classes; j += 32) {
      float g = expf(z[j] - mx) * inv * grad_scale;
      if (j == label) g -= grad_scale;
      d[j] = g;
    }
  }
  return 0;
}

__global__ void __launch_bounds__(kThreads)
    softmax_xent_kernel(const float* logits, const int32_t* labels, float* dlogits, int batch,
                        int classes, float grad_scale, XentScratch* s, double2* rows) {
  const int row = blockIdx.x * kRowsPerBlock + threadIdx.x / 32;
  if (row >= batch) return;  // the whole warp leaves together
  const int bad = xent_row(logits, labels, dlogits, row, classes, grad_scale, rows, false);
  if (bad && threadIdx.x % 32 == 0) atomicMin(bad == 1 ? &s->bad_label_row : &s->nonfinite_row, row);
}

// softmax_xent_record in one launch: every block does its rows as softmax_xent_kernel, noting
// bad rows in flags; the last block to finish (a ticket from the counter *done, which it resets
// to 0 for the next launch) sums the rows exactly as sum_pairs does (this kernel has its block
// size), finds the first bad rows and writes the record. No host round trip.
__global__ void __launch_bounds__(kThreads)
    softmax_xent_record_kernel(const float* logits, const int32_t* labels, float* dlogits, int batch,
                               int classes, float grad_scale, double2* rows, int* flags,
                               unsigned* done, double* record) {
  CLEAVE_SHARED(int, last, [1]);
  CLEAVE_SHARED(int, first_bad, [2]);
  const int row = blockIdx.x * kRowsPerBlock + threadIdx.x / 32;
  if (row < batch) {  // uniform over the warp
    const int bad = xent_row(logits, labels, dlogits, row, classes, grad_scale, rows, true);
    if (threadIdx.x % 32 == 0) flags[row] = bad;
  }
  __threadfence();  // this block's rows are visible to whichever block finishes last
  __syncthreads();
  if (threadIdx.x == 0) last[0] = atomicAdd(done, 1u) == gridDim.x - 1u ? 1 : 0;
  __syncthreads();
  if (!last[0]) return;  // uniform over the block
  __threadfence();
  double a = 0.0, b = 0.0;
  int bad_label = INT_MAX, nonfinite = INT_MAX;
  for (int i = threadIdx.x; i < batch; i += kThreads) {
    const double2 v = __ldcg(rows + i);
    a += v.x;
    b += v.y;
    const int f = __ldcg(flags + i);
    if (f == 1 && bad_label == INT_MAX) bad_label = i;
    if (f == 2 && nonfinite == INT_MAX) nonfinite = i;
  }
  const double2 total = cleave_cuda::block_sum2<kThreads>(a, b);
  if (threadIdx.x == 0) {
    first_bad[0] = INT_MAX;
    first_bad[1] = INT_MAX;
  }
  __syncthreads();
  if (bad_label != INT_MAX) atomicMin(&first_bad[0], bad_label);
  if (nonfinite != INT_MAX) atomicMin(&first_bad[1], nonfinite);
  __syncthreads();
  if (threadIdx.x == 0) {
    record[0] = total.x;
    record[1] = total.y;
    record[2] = first_bad[0] == INT_MAX ? -1.0 : (double)first_bad[0];
    record[3] = first_bad[0] == INT_MAX ? 0.0 : (double)labels[first_bad[0]];
    record[4] = first_bad[1] == INT_MAX ? -1.0 : (double)first_bad[1];
    *done = 0u;
  }
}

const char* const op = "softmax_xent";
}  // namespace

extern "C" int CLEAVE_CUDA_KERNEL(softmax_xent)(const float* logits, const int32_t* labels,
                                                float* dlogits, int batch, int classes,
                                                float grad_scale, double* loss_sum,
                                                int32_t* correct) {
  CLEAVE_CUDA_ENTER("softmax_xent");
  CLEAVE_CHECK_SOFTMAX_XENT(op, logits, labels, loss_sum, correct, batch, classes);
  void* mem = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(op, sizeof(XentScratch) + sizeof(double2) * (size_t)batch, &mem));
  XentScratch* s = static_cast<XentScratch*>(mem);
  double2* rows = reinterpret_cast<double2*>(s + 1);
  XentScratch h{make_double2(0.0, 0.0), INT_MAX, INT_MAX};
  CLEAVE_CUDA_TRY(op, cudaMemcpy(s, &h, sizeof h, cudaMemcpyHostToDevice));
  const dim3 grid((batch + kRowsPerBlock - 1) / kRowsPerBlock);
  CLEAVE_LAUNCH(op, softmax_xent_kernel, grid, dim3(kThreads), logits, labels, dlogits, batch,
                classes, grad_scale, s, rows);
  CLEAVE_RETURN_IF(cleave_cuda::sum_pairs(op, rows, batch, &s->total));
  CLEAVE_CUDA_TRY(op, cudaMemcpy(&h, s, sizeof h, cudaMemcpyDeviceToHost));
  if (h.bad_label_row != INT_MAX && h.bad_label_row <= h.nonfinite_row) {
    int32_t label = 0;
    CLEAVE_CUDA_TRY(op, cudaMemcpy(&label, labels + h.bad_label_row, sizeof label,
                                   cudaMemcpyDeviceToHost));
    return cleave_cuda::fail(CLEAVE_INVALID_ARGUMENT, op, __FILE__, __LINE__, "label %d of row %d is outside [0, %d)",
                                  label, h.bad_label_row, classes);
  }
  CLEAVE_REQUIRE_FINITE(op, h.nonfinite_row == INT_MAX, CLEAVE_NONFINITE_LOGIT_MESSAGE, h.nonfinite_row);
  *loss_sum = h.total.x;
  *correct = (int32_t)h.total.y;
  return cleave_cuda::ok();
}

extern "C" int CLEAVE_CUDA_KERNEL(softmax_xent_record)(const float* logits, const int32_t* labels,
                                                       float* dlogits, int batch, int classes,
                                                       float grad_scale, double* record) {
  const char* rop = "softmax_xent_record";
  CLEAVE_CUDA_ENTER(rop);
  CLEAVE_REQUIRE(rop, logits && labels && record, "logits, labels and record must not be null");
  CLEAVE_REQUIRE(rop, batch > 0 && classes > 0, "batch and classes must be positive, got %d, %d", batch, classes);
  void* mem = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(rop, (sizeof(double2) + sizeof(int)) * (size_t)batch, &mem));
  double2* rows = static_cast<double2*>(mem);
  int* flags = reinterpret_cast<int*>(rows + batch);
  unsigned* done = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::launch_counter(rop, &done));
  const dim3 grid((batch + kRowsPerBlock - 1) / kRowsPerBlock);
  CLEAVE_LAUNCH(rop, softmax_xent_record_kernel, grid, dim3(kThreads), logits, labels, dlogits, batch,
                classes, grad_scale, rows, flags, done, record);
  return cleave_cuda::ok();
}
