// enmeshment: clusterability C of a weight matrix and the gradient of C (G24's enmeshment loss; the cpu
// kernel is native/src/enmeshment.cpp), in passes that never leave the device. W is rows x cols x
// slice (a matrix with slice 1, a conv kernel (out, in, kh, kw) with slice kh * kw); element
// (i, j, s) is in row i's block when col_labels[j] == row_labels[i].
//
//   check:  every row and column label in [0, k); atomicMin records the first bad index of each.
//   sums:   a warp per row (grid-stride over rows), lanes over the row's cols * slice elements:
//           S = sum w^2 and B = in-block sum (col_labels[e / slice] == row_labels[i]) in double; per-block partials,
//           their number chosen from the row count alone (never from the device).
//   reduce: sum_pairs adds the partials in a fixed order (the result does not depend on timing).
//   update: the same warp-per-row walk; each thread reads S and B from device memory, skips
//           everything when a label was bad, S is 0 or S is not finite, else adds
//           a_in * w (in-block) or a_out * w (outside) to grad, with C = B / S,
//           a_in = 2 scale (1 - C) / S, a_out = -2 scale C / S computed in double as the cpu
//           kernel does.
// One copy back at the end brings C and the error flags to the host. DRAM traffic: 2 reads of W,
// 1 read and 1 write of grad: 16 bytes per element (the column labels are re-read per row, from
// cache).
//
// Timed by cuda/bench/cuda_kernel_bench.cu (command in its header).
#include <climits>
#include <cmath>
#include "common.cuh"

namespace {
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxK = 65536;  // CLEAVE_ENMESHMENT_MAX_K of native/include/cleave_modular.h

struct EnmeshScratch {
  double2 sums;  // (S, B)
  int bad_row;   // first row whose label is outside [0, k), INT_MAX if none
  int bad_col;   // first column whose label is outside [0, k), INT_MAX if none
};

__global__ void __launch_bounds__(kThreads)
    enmeshment_check_kernel(const int32_t* row_labels, const int32_t* col_labels, int rows,
                            int cols, int k, EnmeshScratch* s) {
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < (int64_t)rows + cols;
       i += stride) {
    if (i < rows) {
      const int32_t l = row_labels[i];
      if (l < 0 || l >= k) atomicMin(&s->bad_row, (int)i);
    } else {
      const int32_t l = col_labels[i - rows];
      if (l < 0 || l >= k) atomicMin(&s->bad_col, (int)(i - rows));
    }
  }
}

__global__ void __launch_bounds__(kThreads)
    enmeshment_sums_kernel(const float* w, const int32_t* row_labels, const int32_t* col_labels,
                           int rows, int cols, int slice, double2* partials) {
  const int lane = threadIdx.x % 32;
  const int64_t row_len = (int64_t)cols * slice;
  double all = 0.0, in = 0.0;
  for (int i = blockIdx.x * kWarps + threadIdx.x / 32; i < rows; i += gridDim.x * kWarps) {
    const float* wr = w + (int64_t)i * row_len;
    const int32_t label = row_labels[i];
    for (int64_t e = lane; e < row_len; e += 32) {
      // squared in float as the cpu kernel does, so |w| > 1.8e19 gives an infinite S there too
      const double q = (double)(wr[e] * wr[e]);
      all += q;
      if (col_labels[slice == 1 ? e : e / slice] == label) in += q;
    }
  }
  const double2 s = cleave_cuda::block_sum2<kThreads>(all, in);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

__global__ void __launch_bounds__(kThreads)
    enmeshment_update_kernel(const float* w, const int32_t* row_labels, const int32_t* col_labels,
                             int rows, int cols, int slice, float scale, float* grad,
                             const EnmeshScratch* s) {
  if (s->bad_row != INT_MAX || s->bad_col != INT_MAX) return;
  const double total = s->sums.x;
  if (!isfinite(total) || total == 0.0) return;
  const double c = s->sums.y / total;
  const float a_in = (float)(2.0 * scale * (1.0 - c) / total);
  const float a_out = (float)(-2.0 * scale * c / total);
  const int lane = threadIdx.x % 32;
  const int64_t row_len = (int64_t)cols * slice;
  for (int i = blockIdx.x * kWarps + threadIdx.x / 32; i < rows; i += gridDim.x * kWarps) {
    const float* wr = w + (int64_t)i * row_len;
    float* gr = grad + (int64_t)i * row_len;
    const int32_t label = row_labels[i];
    for (int64_t e = lane; e < row_len; e += 32)
      gr[e] += (col_labels[slice == 1 ? e : e / slice] == label ? a_in : a_out) * wr[e];
  }
}

const char* const op = "enmeshment";
}  // namespace

extern "C" int CLEAVE_CUDA_KERNEL(enmeshment)(const float* w, const int32_t* row_labels,
                                              const int32_t* col_labels, int rows, int cols,
                                              int slice, int k, float scale, float* grad,
                                              double* c_out) {
  CLEAVE_CUDA_ENTER("enmeshment");
  CLEAVE_CHECK_ENMESHMENT(op, w, row_labels, col_labels, c_out, rows, cols, slice, k, kMaxK, scale);
  if (rows + (int64_t)cols == 0) {
    *c_out = 0.0;
    return cleave_cuda::ok();
  }
  // Work in units of rows: a warp per row. The sums' partials are chosen from rows alone (a block
  // per kWarps rows, at most kMaxPartials), so C is bit-identical on every GPU; the update, which
  // reduces nothing, takes one full wave of the device.
  const unsigned blocks = cleave_cuda::reduce_blocks(rows, kWarps);
  const int64_t row_threads = ((int64_t)rows + kWarps - 1) / kWarps * kThreads;
  const unsigned update_blocks =
      cleave_cuda::grid_for(enmeshment_update_kernel, row_threads, kThreads, 1u << 16);
  void* mem = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(op, sizeof(EnmeshScratch) + sizeof(double2) * blocks, &mem));
  EnmeshScratch* s = static_cast<EnmeshScratch*>(mem);
  double2* partials = reinterpret_cast<double2*>(s + 1);
  EnmeshScratch h{make_double2(0.0, 0.0), INT_MAX, INT_MAX};
  CLEAVE_CUDA_TRY(op, cudaMemcpy(s, &h, sizeof h, cudaMemcpyHostToDevice));
  CLEAVE_LAUNCH(op, enmeshment_check_kernel,
                dim3(cleave_cuda::grid_for(enmeshment_check_kernel, (int64_t)rows + cols, kThreads, 1024)), dim3(kThreads),
                row_labels, col_labels, rows, cols, k, s);
  if (rows > 0 && cols > 0) {
    CLEAVE_LAUNCH(op, enmeshment_sums_kernel, dim3(blocks), dim3(kThreads), w, row_labels,
                  col_labels, rows, cols, slice, partials);
    CLEAVE_RETURN_IF(cleave_cuda::sum_pairs(op, partials, (int)blocks, &s->sums));
    if (grad)
      CLEAVE_LAUNCH(op, enmeshment_update_kernel, dim3(update_blocks), dim3(kThreads), w, row_labels,
                    col_labels, rows, cols, slice, scale, grad, s);
  }
  CLEAVE_CUDA_TRY(op, cudaMemcpy(&h, s, sizeof h, cudaMemcpyDeviceToHost));
  if (h.bad_row != INT_MAX) {
    int32_t label = 0;
    CLEAVE_CUDA_TRY(op, cudaMemcpy(&label, row_labels + h.bad_row, sizeof label, cudaMemcpyDeviceToHost));
    return cleave_cuda::fail(CLEAVE_INVALID_ARGUMENT, op, __FILE__, __LINE__, "row label %d of row %d is outside [0, %d)",
                                  label, h.bad_row, k);
  }
  if (h.bad_col != INT_MAX) {
    int32_t label = 0;
    CLEAVE_CUDA_TRY(op, cudaMemcpy(&label, col_labels + h.bad_col, sizeof label, cudaMemcpyDeviceToHost));
    return cleave_cuda::fail(CLEAVE_INVALID_ARGUMENT, op, __FILE__, __LINE__,
                                  "column label %d of column %d is outside [0, %d)", label,
                                  h.bad_col, k);
  }
  CLEAVE_REQUIRE_FINITE(op, std::isfinite(h.sums.x), CLEAVE_NONFINITE_WEIGHTS_MESSAGE);
  *c_out = h.sums.x == 0.0 ? 0.0 : h.sums.y / h.sums.x;
  return cleave_cuda::ok();
}
