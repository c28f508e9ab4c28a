// The spectral engine on the GPU: the normalized adjacency N = D^-1/2 A D^-1/2 (and the bipartite
// half operator M = N_ST N_TS) applied from device-resident weights (spectral_op_*), the block
// kernels the Chebyshev-filtered subspace iteration is made of (block_*), and the k-means
// assignment step (kmeans_assign). Each has the cpu counterpart of the same name in
// native/include/cleave_spectral.h; the Java driver (dev.cleave.cluster.ChebyshevEigensolver over
// dev.cleave.cluster.CudaOperator, and dev.cleave.cluster.KMeans) runs the algorithm once for every
// backend, keeping only p x p matrices on the host.
//
// Semantics follow native/src/spectral_op.cpp and spectral_eigs.cpp: float weights widened to
// double, double vectors and sums, every output element summed by one thread in the cpu's order
// (pieces in order, entries of a row in order). Reductions over rows (block_gram,
// block_residuals) use the cpu's fixed row chunks: one block per chunk writes its partial sums
// (in a fixed order of its own), then one pass adds the chunks in order, so nothing depends on
// timing.
//
// Kernels:
//  - spectral_dense_kernel<kTrans>: y[dst + i] += sum_j A_ij x[src + j] for a dense float block,
//    or (kTrans) for its transpose, read from the same copy (no transposed copy is stored).
//    64 output rows x 16 vectors per block of 256 threads (4 accumulators each); A (converted to
//    double as it is staged) and x go through shared memory in 32-deep slices, loaded with
//    consecutive threads on consecutive addresses for either orientation of A.
//  - spectral_csr_kernel: one thread per (row, vector), grid-stride; the row's entries in order.
//  - spectral_scale_kernel: out = s (or s^2) * in per row, grid-stride (in place allowed).
//  - block_gram_partial_kernel / block_sum_chunks_kernel: the two passes of G = X^T Y (per chunk,
//    all 256 threads busy: entries x row lanes, the lanes summed in order in shared memory).
//  - block_sub_mul_kernel, block_mul_square_kernel (rows staged in shared memory: in place),
//    block_residual_partial_kernel (+ block_sum_chunks_kernel), block_chebyshev_step_kernel,
//    block_copy_kernel: grid-stride.
//  - kmeans_assign_kernel: one thread per point (in registers when d <= 32), centers staged in
//    shared memory in chunks.
//
// Timed by cuda/bench/cuda_kernel_bench.cu (spectral_op_apply on an 8 x 1024 network graph, the
// block kernels and kmeans_assign at 1M rows x 16 columns; command in its header), as GB/s of
// minimum DRAM traffic: these kernels are memory-bound at the solver's 16 or so vectors. Not yet
// measured on a GPU (none was available while they were written).
#include <cmath>
#include <new>
#include <vector>
#include "common.cuh"

namespace {
constexpr int kThreads = 256;
constexpr unsigned kMaxBlocks = 1u << 16;

// ---- operator application ----
constexpr int kTileRows = 64, kTileK = 32, kTileCols = 16;
static_assert(kThreads == kTileRows * kTileCols / 4, "4 accumulators per thread");

template <bool kTrans>
__global__ void __launch_bounds__(kThreads)
    spectral_dense_kernel(const float* a, int64_t rows, int64_t cols, const double* x, double* y, int c) {
  // The tile is staged as double, converted once per element (each is read by the 16 vector
  // lanes: converting in the inner loop did it 16 times, capping the kernel near 28% of HBM).
  CLEAVE_SHARED(double, sa, [kTileRows][kTileK + 1]);
  CLEAVE_SHARED(double, sx, [kTileK][kTileCols]);
  const int64_t r0 = (int64_t)blockIdx.x * kTileRows;
  const int c0 = blockIdx.y * kTileCols;
  const int tid = threadIdx.x;
  const int lane = tid % kTileCols, group = tid / kTileCols;  // 16 groups of 16
  double acc[4] = {0.0, 0.0, 0.0, 0.0};
  for (int64_t k0 = 0; k0 < cols; k0 += kTileK) {
    for (int e = tid; e < kTileRows * kTileK; e += kThreads) {
      // A(i, k) = a[i * cols + k], or a[k * rows + i] for the transpose: consecutive threads
      // read consecutive addresses either way.
      const int i = kTrans ? e % kTileRows : e / kTileK;
      const int kk = kTrans ? e / kTileRows : e % kTileK;
      const int64_t gi = r0 + i, gk = k0 + kk;
      double v = 0.0;
      if (gi < rows && gk < cols) v = (double)(kTrans ? a[gk * rows + gi] : a[gi * cols + gk]);
      sa[i][kk] = v;
    }
    for (int e = tid; e < kTileK * kTileCols; e += kThreads) {
      const int kk = e / kTileCols, j = e % kTileCols;
      const int64_t gk = k0 + kk;
      sx[kk][j] = (gk < cols && c0 + j < c) ? x[gk * c + c0 + j] : 0.0;
    }
    __syncthreads();
    const int kmax = cols - k0 < kTileK ? (int)(cols - k0) : kTileK;
    for (int kk = 0; kk < kmax; ++kk) {
      const double xv = sx[kk][lane];
      for (int r = 0; r < 4; ++r) acc[r] += sa[group + 16 * r][kk] * xv;
    }
    __syncthreads();
  }
  for (int r = 0; r < 4; ++r) {
    const int64_t gi = r0 + group + 16 * r;
    if (gi < rows && c0 + lane < c) y[gi * c + c0 + lane] += acc[r];
  }
}

__global__ void __launch_bounds__(kThreads)
    spectral_csr_kernel(const int64_t* off, const int32_t* col, const float* w, int64_t rows, const double* x,
                        double* y, int c) {
  const int64_t total = rows * c;
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t idx = (int64_t)blockIdx.x * kThreads + threadIdx.x; idx < total; idx += stride) {
    const int64_t i = idx / c;
    const int j = (int)(idx % c);
    double s = 0.0;
    for (int64_t e = off[i]; e < off[i + 1]; ++e) s += (double)w[e] * x[(int64_t)col[e] * c + j];
    y[idx] += s;
  }
}

__global__ void __launch_bounds__(kThreads)
    spectral_scale_kernel(const double* s, const double* in, double* out, int64_t rows, int c, int power) {
  const int64_t total = rows * c;
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t idx = (int64_t)blockIdx.x * kThreads + threadIdx.x; idx < total; idx += stride) {
    const double f = s[idx / c];
    out[idx] = (power == 2 ? f * f : f) * in[idx];
  }
}

// ---- block kernels ----
// The cpu's fixed row chunks (native/src/spectral_eigs.cpp chunk_rows): at most 256, from n alone.
inline int64_t chunk_rows(int64_t n) {
  const int64_t chunks = (n + 255) / 256 < 256 ? (n + 255) / 256 : 256;
  return (n + chunks - 1) / chunks;
}

// Per-chunk partial sums of `count` values, one block per chunk, all threads busy: with fewer
// values than threads, the chunk's rows are dealt round-robin to `lanes` groups of `count`
// threads and the lanes' sums added in lane order through shared memory (a fixed order: the
// result does not depend on timing). term(i, e) is the contribution of row i to value e.
template <typename Term>
__device__ __forceinline__ void chunk_partials(int64_t i0, int64_t i1, int count, double* out, Term term) {
  CLEAVE_SHARED(double, lane_sums, [kThreads]);
  if (count >= kThreads) {
    for (int e = threadIdx.x; e < count; e += kThreads) {
      double acc = 0.0;
      for (int64_t i = i0; i < i1; ++i) acc += term(i, e);
      out[e] = acc;
    }
    return;
  }
  const int lanes = kThreads / count;
  const int e = threadIdx.x % count, lane = threadIdx.x / count;
  double acc = 0.0;
  if (lane < lanes)
    for (int64_t i = i0 + lane; i < i1; i += lanes) acc += term(i, e);
  lane_sums[threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.x < count) {
    double s = 0.0;
    for (int l = 0; l < lanes; ++l) s += lane_sums[l * count + e];
    out[e] = s;
  }
}

// partial[chunk][r * b + s] = sum over the chunk's rows of x[i][r] y[i][s]; one block per chunk.
__global__ void __launch_bounds__(kThreads)
    block_gram_partial_kernel(int64_t n, int64_t chunk, const double* x, int64_t ldx, int a, const double* y,
                              int64_t ldy, int b, double* partial) {
  const int64_t i0 = (int64_t)blockIdx.x * chunk;
  const int64_t i1 = i0 + chunk < n ? i0 + chunk : n;
  chunk_partials(i0, i1, a * b, partial + (int64_t)blockIdx.x * a * b,
                 [=](int64_t i, int e) { return x[i * ldx + e / b] * y[i * ldy + e % b]; });
}

// out[e] = sum over chunks, in order, of partial[chunk][e] (sqrt of it when root != 0).
__global__ void __launch_bounds__(kThreads)
    block_sum_chunks_kernel(const double* partial, int chunks, int count, double* out, int root) {
  const int stride = gridDim.x * kThreads;
  for (int e = blockIdx.x * kThreads + threadIdx.x; e < count; e += stride) {
    double s = 0.0;
    for (int q = 0; q < chunks; ++q) s += partial[(int64_t)q * count + e];
    out[e] = root ? sqrt(s) : s;
  }
}

__global__ void __launch_bounds__(kThreads)
    block_sub_mul_kernel(int64_t n, const double* x, int64_t ldx, int a, const double* g, double* y, int64_t ldy,
                         int b) {
  const int64_t total = n * b;
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t idx = (int64_t)blockIdx.x * kThreads + threadIdx.x; idx < total; idx += stride) {
    const int64_t i = idx / b;
    const int s = (int)(idx % b);
    double v = y[i * ldy + s];
    for (int r = 0; r < a; ++r) v -= x[i * ldx + r] * g[r * b + s];
    y[i * ldy + s] = v;
  }
}

constexpr int kSquareRows = 8, kMaxSquare = 256;

// X[:, 0:c] = X[:, 0:c] q in place: kSquareRows rows at a time are staged in shared memory.
__global__ void __launch_bounds__(kThreads)
    block_mul_square_kernel(int64_t n, double* x, int64_t ldx, int c, const double* q) {
  CLEAVE_SHARED(double, rows_s, [kSquareRows][kMaxSquare]);
  const int64_t tiles = (n + kSquareRows - 1) / kSquareRows;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int64_t r0 = t * kSquareRows;
    const int nr = n - r0 < kSquareRows ? (int)(n - r0) : kSquareRows;
    for (int e = threadIdx.x; e < nr * c; e += kThreads) rows_s[e / c][e % c] = x[(r0 + e / c) * ldx + e % c];
    __syncthreads();
    for (int e = threadIdx.x; e < nr * c; e += kThreads) {
      const int i = e / c, s = e % c;
      double acc = 0.0;
      for (int r = 0; r < c; ++r) acc += rows_s[i][r] * q[r * c + s];
      x[(r0 + i) * ldx + s] = acc;
    }
    __syncthreads();
  }
}

// partial[chunk][j] = sum over the chunk's rows of (ax[i][j] - theta[j] x[i][j])^2.
__global__ void __launch_bounds__(kThreads)
    block_residual_partial_kernel(int64_t n, int64_t chunk, const double* x, const double* ax, int64_t ld, int k,
                                  const double* theta, double* partial) {
  const int64_t i0 = (int64_t)blockIdx.x * chunk;
  const int64_t i1 = i0 + chunk < n ? i0 + chunk : n;
  chunk_partials(i0, i1, k, partial + (int64_t)blockIdx.x * k, [=](int64_t i, int j) {
    const double r = ax[i * ld + j] - theta[j] * x[i * ld + j];
    return r * r;
  });
}

__global__ void __launch_bounds__(kThreads)
    block_chebyshev_step_kernel(int64_t count, double f, double c, double g, const double* y0, const double* y1,
                                double* y2) {
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < count; i += stride)
    y2[i] = y0 ? f * (y2[i] - c * y1[i]) - g * y0[i] : f * (y2[i] - c * y1[i]);
}

__global__ void __launch_bounds__(kThreads)
    block_copy_kernel(int64_t n, const double* src, int64_t lds, double* dst, int64_t ldd, int c) {
  const int64_t total = n * c;
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t idx = (int64_t)blockIdx.x * kThreads + threadIdx.x; idx < total; idx += stride) {
    const int64_t i = idx / c;
    const int j = (int)(idx % c);
    dst[i * ldd + j] = src[i * lds + j];
  }
}

// ---- k-means ----
constexpr int kCenterDoubles = 4096;  // 32 KiB of centers in shared memory per chunk

// Points of up to this many dimensions (the eigensolver's p is about 16) are kept in registers.
constexpr int kPointRegs = 32;

__global__ void __launch_bounds__(kThreads)
    kmeans_assign_kernel(const double* x, int64_t n, int d, const double* centers, int k, int32_t* labels,
                         double* dist) {
  CLEAVE_SHARED(double, cs, [kCenterDoubles]);
  const int per_chunk = kCenterDoubles / d;
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  // Every thread of the block runs the same number of rounds (the barriers need all of them).
  const int64_t rounds = (n + stride - 1) / stride;
  for (int64_t round = 0; round < rounds; ++round) {
    const int64_t i = round * stride + (int64_t)blockIdx.x * kThreads + threadIdx.x;
    const bool live = i < n;
    double best = 0.0;
    int best_c = 0;
    for (int c0 = 0; c0 < k; c0 += per_chunk) {
      const int cn = k - c0 < per_chunk ? k - c0 : per_chunk;
      __syncthreads();
      for (int e = threadIdx.x; e < cn * d; e += kThreads) cs[e] = centers[(int64_t)c0 * d + e];
      __syncthreads();
      if (live && d <= kPointRegs) {
        // The point in registers (the loops unroll over kPointRegs, so xr is never indexed at run
        // time), read from global memory once per chunk of centers instead of once per center.
        const double* xi = x + i * d;
        double xr[kPointRegs];
#pragma unroll
        for (int j = 0; j < kPointRegs; ++j) xr[j] = j < d ? xi[j] : 0.0;
        for (int c = 0; c < cn; ++c) {
          double s = 0.0;
#pragma unroll
          for (int j = 0; j < kPointRegs; ++j) {
            if (j < d) {
              const double v = xr[j] - cs[c * d + j];
              s += v * v;
            }
          }
          if (c0 + c == 0 || s < best) {  // strict: ties keep the lowest index
            best = s;
            best_c = c0 + c;
          }
        }
      } else if (live) {
        const double* xi = x + i * d;
        for (int c = 0; c < cn; ++c) {
          double s = 0.0;
          for (int j = 0; j < d; ++j) {
            const double v = xi[j] - cs[c * d + j];
            s += v * v;
          }
          if (c0 + c == 0 || s < best) {
            best = s;
            best_c = c0 + c;
          }
        }
      }
    }
    if (live) {
      labels[i] = best_c;
      dist[i] = best;
    }
  }
}

}  // namespace

// ---- the device operator ----
struct cleave_cuda_spectral_op {
  struct Piece {
    int64_t dst = 0, rows = 0, src = 0, cols = 0;
    bool dense = true, transposed = false;
    float* a = nullptr;  // dense (shared by a piece and its mirror)
    int64_t* off = nullptr;
    int32_t* col = nullptr;
    float* w = nullptr;
    int64_t entries = 0;
  };
  int64_t n = 0, half = 0;
  double* scale = nullptr;
  std::vector<Piece> pieces;
  std::vector<void*> owned;  // every device allocation, freed by spectral_op_free
  double* work = nullptr;     // t (and u for M): grown on demand
  int64_t work_doubles = 0;
};

namespace {
using Op = cleave_cuda_spectral_op;

int op_alloc(Op* op, const char* name, size_t bytes, void** out) {
  void* p = nullptr;
  CLEAVE_CUDA_TRY(name, cudaMalloc(&p, bytes < 1 ? 1 : bytes));
  try {
    op->owned.push_back(p);
  } catch (const std::bad_alloc&) {
    CLEAVE_CUDA_TRY(name, cudaFree(p));
    return cleave_cuda::set_error(name, __FILE__, __LINE__, "out of host memory");
  }
  *out = p;
  return 0;
}

int upload(Op* op, const char* name, const void* host, size_t bytes, void** out) {
  CLEAVE_RETURN_IF(op_alloc(op, name, bytes, out));
  CLEAVE_CUDA_TRY(name, cudaMemcpy(*out, host, bytes, cudaMemcpyHostToDevice));
  return 0;
}

int check_range(const Op* op, int64_t dst, int64_t rows, int64_t src, int64_t cols) {
  const char* name = "spectral_op";
  CLEAVE_REQUIRE(name, op, "op must not be null");
  CLEAVE_REQUIRE(name, rows > 0 && cols > 0 && dst >= 0 && src >= 0 && dst + rows <= op->n && src + cols <= op->n,
                 "piece rows [%lld, %lld) x cols [%lld, %lld) must lie in [0, %lld)", (long long)dst,
                 (long long)(dst + rows), (long long)src, (long long)(src + cols), (long long)op->n);
  if (op->half > 0) {
    const bool s2t = src + cols <= op->half && dst >= op->half;
    const bool t2s = src >= op->half && dst + rows <= op->half;
    CLEAVE_REQUIRE(name, s2t || t2s,
                   "bipartite op (half = %lld): a piece must map side S to side T or T to S, got rows "
                   "[%lld, %lld) x cols [%lld, %lld)",
                   (long long)op->half, (long long)dst, (long long)(dst + rows), (long long)src,
                   (long long)(src + cols));
  }
  return 0;
}

// y[p.dst - yoff ..] += piece * x[p.src - xoff ..] (rows of c values).
int add_piece(const char* name, const Op::Piece& p, const double* x, int64_t xoff, double* y, int64_t yoff, int c) {
  const double* xs = x + (p.src - xoff) * c;
  double* yd = y + (p.dst - yoff) * c;
  if (p.dense) {
    const dim3 grid((unsigned)((p.rows + kTileRows - 1) / kTileRows), (unsigned)((c + kTileCols - 1) / kTileCols));
    const cudaError_t err =
        p.transposed ? cleave_cuda::launch("spectral_dense_kernel<T>", spectral_dense_kernel<true>, grid, dim3(kThreads),
                                           p.a, p.rows, p.cols, xs, yd, c)
                     : cleave_cuda::launch("spectral_dense_kernel<N>", spectral_dense_kernel<false>, grid,
                                           dim3(kThreads), p.a, p.rows, p.cols, xs, yd, c);
    if (err != cudaSuccess) return cleave_cuda::cuda_error(name, __FILE__, __LINE__, "launching spectral_dense_kernel", err);
  } else {
    CLEAVE_LAUNCH(name, spectral_csr_kernel, dim3(cleave_cuda::grid_for(spectral_csr_kernel, p.rows * c, kThreads, kMaxBlocks)),
                  dim3(kThreads), p.off, p.col, p.w, p.rows, xs, yd, c);
  }
  return 0;
}

int scale(const char* name, const double* s, const double* in, double* out, int64_t rows, int c, int power) {
  CLEAVE_LAUNCH(name, spectral_scale_kernel, dim3(cleave_cuda::grid_for(spectral_scale_kernel, rows * c, kThreads, kMaxBlocks)),
                dim3(kThreads), s, in, out, rows, c, power);
  return 0;
}
}  // namespace

extern "C" {
int CLEAVE_CUDA_FN(spectral_op_create)(int64_t n, int64_t half, const double* scale_host, cleave_cuda_spectral_op** out) {
  CLEAVE_CUDA_ENTER("spectral_op_create");
  const char* name = "spectral_op";
  CLEAVE_REQUIRE(name, out && scale_host, "scale and out must not be null");
  *out = nullptr;
  CLEAVE_REQUIRE(name, n > 0 && n <= INT32_MAX, "n must be in [1, 2^31), got %lld", (long long)n);
  CLEAVE_REQUIRE(name, half >= 0 && half < n, "half must be in [0, n), got %lld", (long long)half);
  for (int64_t i = 0; i < n; ++i)
    CLEAVE_REQUIRE(name, std::isfinite(scale_host[i]) && scale_host[i] > 0.0,
                   "scale[%lld] = %g must be finite and > 0 (a node of degree 0?)", (long long)i, scale_host[i]);
  Op* op = new (std::nothrow) Op();
  CLEAVE_REQUIRE(name, op, "out of host memory");
  op->n = n;
  op->half = half;
  void* s = nullptr;
  const int status = upload(op, name, scale_host, sizeof(double) * n, &s);
  if (status) {
    CLEAVE_CUDA_FN(spectral_op_free)(op);
    return status;
  }
  op->scale = static_cast<double*>(s);
  *out = op;
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_FN(spectral_op_add_dense)(cleave_cuda_spectral_op* op, int64_t dst, int64_t rows, int64_t src,
                                          int64_t cols, const float* a, int mirror) {
  CLEAVE_CUDA_ENTER("spectral_op_add_dense");
  const char* name = "spectral_op";
  CLEAVE_RETURN_IF(check_range(op, dst, rows, src, cols));
  if (mirror) CLEAVE_RETURN_IF(check_range(op, src, cols, dst, rows));
  CLEAVE_REQUIRE(name, a, "a must not be null");
  const int64_t total = rows * cols;
  for (int64_t i = 0; i < total; ++i)
    CLEAVE_REQUIRE(name, std::isfinite(a[i]) && a[i] >= 0.0f, "dense entry %lld = %g must be finite and >= 0",
                   (long long)i, a[i]);
  void* d = nullptr;
  CLEAVE_RETURN_IF(upload(op, name, a, sizeof(float) * total, &d));
  try {
    Op::Piece p;
    p.dst = dst; p.rows = rows; p.src = src; p.cols = cols; p.dense = true;
    p.a = static_cast<float*>(d);
    p.entries = total;
    op->pieces.push_back(p);
    if (mirror) {  // the transpose, read from the same device copy
      Op::Piece m = p;
      m.dst = src; m.rows = cols; m.src = dst; m.cols = rows; m.transposed = true;
      op->pieces.push_back(m);
    }
  } catch (const std::bad_alloc&) {
    return cleave_cuda::set_error(name, __FILE__, __LINE__, "out of host memory");
  }
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_FN(spectral_op_add_csr)(cleave_cuda_spectral_op* op, int64_t dst, int64_t rows, int64_t src,
                                        int64_t cols, const int64_t* offsets, const int32_t* columns,
                                        const float* weights) {
  CLEAVE_CUDA_ENTER("spectral_op_add_csr");
  const char* name = "spectral_op";
  CLEAVE_RETURN_IF(check_range(op, dst, rows, src, cols));
  CLEAVE_REQUIRE(name, offsets && (offsets[rows] == 0 || (columns && weights)),
                 "offsets, columns and weights must not be null");
  CLEAVE_REQUIRE(name, offsets[0] == 0, "offsets[0] must be 0, got %lld", (long long)offsets[0]);
  for (int64_t i = 0; i < rows; ++i)
    CLEAVE_REQUIRE(name, offsets[i + 1] >= offsets[i], "offsets must not decrease (row %lld)", (long long)i);
  const int64_t nnz = offsets[rows];
  for (int64_t e = 0; e < nnz; ++e) {
    CLEAVE_REQUIRE(name, columns[e] >= 0 && columns[e] < cols, "column %d at entry %lld is outside [0, %lld)",
                   columns[e], (long long)e, (long long)cols);
    CLEAVE_REQUIRE(name, std::isfinite(weights[e]) && weights[e] >= 0.0f, "weight %g at entry %lld must be finite and >= 0",
                   weights[e], (long long)e);
  }
  void *o = nullptr, *c = nullptr, *w = nullptr;
  CLEAVE_RETURN_IF(upload(op, name, offsets, sizeof(int64_t) * (rows + 1), &o));
  if (nnz > 0) {
    CLEAVE_RETURN_IF(upload(op, name, columns, sizeof(int32_t) * nnz, &c));
    CLEAVE_RETURN_IF(upload(op, name, weights, sizeof(float) * nnz, &w));
  }
  try {
    Op::Piece p;
    p.dst = dst; p.rows = rows; p.src = src; p.cols = cols; p.dense = false;
    p.off = static_cast<int64_t*>(o);
    p.col = static_cast<int32_t*>(c);
    p.w = static_cast<float*>(w);
    p.entries = nnz;
    op->pieces.push_back(p);
  } catch (const std::bad_alloc&) {
    return cleave_cuda::set_error(name, __FILE__, __LINE__, "out of host memory");
  }
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_FN(spectral_op_free)(cleave_cuda_spectral_op* op) {
  if (!op) return cleave_cuda::ok();
  int status = cleave_cuda::enter("spectral_op_free");
  // Every allocation is freed even when one fails; the first failure is reported. After a
  // sticky fault the context's memory is gone with it, and freeing succeeds trivially.
  auto release = [&](void* p) {
    const cudaError_t err = cudaFree(p);
    if (err != cudaSuccess && !cleave_cuda::is_sticky(err) && !status)
      status = cleave_cuda::cuda_error("spectral_op_free", __FILE__, __LINE__, "cudaFree", err);
  };
  for (void* p : op->owned) release(p);
  if (op->work) release(op->work);
  delete op;
  return status ? status : cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(spectral_op_apply)(const cleave_cuda_spectral_op* op_c, int which, const double* x, double* y,
                                          int cols) {
  CLEAVE_CUDA_ENTER("spectral_op_apply");
  const char* name = "spectral_op_apply";
  CLEAVE_REQUIRE(name, op_c && x && y, "op, x and y must not be null");
  CLEAVE_REQUIRE(name, which == 0 || (which == 1 && op_c->half > 0),
                 "which must be 0 (N) or, for a bipartite op, 1 (M); got %d", which);
  CLEAVE_REQUIRE(name, cols >= 1, "cols must be >= 1, got %d", cols);
  Op* op = const_cast<Op*>(op_c);  // only its workspace changes
  const int64_t n = op->n, S = op->half, T = op->n - op->half;
  const int64_t need = (which == 0 ? n : S + T) * (int64_t)cols;
  if (op->work_doubles < need) {
    void* old = op->work;
    op->work = nullptr;
    if (old) CLEAVE_CUDA_TRY(name, cudaFree(old));
    op->work_doubles = 0;
    void* p = nullptr;
    CLEAVE_CUDA_TRY(name, cudaMalloc(&p, sizeof(double) * need));
    op->work = static_cast<double*>(p);
    op->work_doubles = need;
  }
  double* t = op->work;
  if (which == 0) {
    CLEAVE_RETURN_IF(scale(name, op->scale, x, t, n, cols, 1));
    CLEAVE_CUDA_TRY(name, cudaMemset(y, 0, sizeof(double) * n * cols));
    for (const Op::Piece& p : op->pieces) CLEAVE_RETURN_IF(add_piece(name, p, t, 0, y, 0, cols));
    CLEAVE_RETURN_IF(scale(name, op->scale, y, y, n, cols, 1));
  } else {
    double* u = t + S * cols;
    CLEAVE_RETURN_IF(scale(name, op->scale, x, t, S, cols, 1));
    CLEAVE_CUDA_TRY(name, cudaMemset(u, 0, sizeof(double) * T * cols));
    for (const Op::Piece& p : op->pieces)
      if (p.src < S && p.dst >= S) CLEAVE_RETURN_IF(add_piece(name, p, t, 0, u, S, cols));
    CLEAVE_RETURN_IF(scale(name, op->scale + S, u, u, T, cols, 2));
    CLEAVE_CUDA_TRY(name, cudaMemset(y, 0, sizeof(double) * S * cols));
    for (const Op::Piece& p : op->pieces)
      if (p.src >= S && p.dst < S) CLEAVE_RETURN_IF(add_piece(name, p, u, S, y, 0, cols));
    CLEAVE_RETURN_IF(scale(name, op->scale, y, y, S, cols, 1));
  }
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(block_gram)(int64_t n, const double* x, int64_t ldx, int a, const double* y, int64_t ldy, int b,
                                   double* g) {
  CLEAVE_CUDA_ENTER("block_gram");
  const char* name = "block_gram";
  CLEAVE_REQUIRE(name, x && y && g, "x, y and g must not be null");
  CLEAVE_REQUIRE(name, n >= 0 && a >= 0 && b >= 0 && ldx >= a && ldy >= b,
                 "need n, a, b >= 0, ldx >= a and ldy >= b; got n = %lld, a = %d, b = %d, ldx = %lld, ldy = %lld",
                 (long long)n, a, b, (long long)ldx, (long long)ldy);
  const int ab = a * b;
  if (ab == 0) return cleave_cuda::ok();
  if (n == 0) {
    CLEAVE_CUDA_TRY(name, cudaMemset(g, 0, sizeof(double) * ab));
    return cleave_cuda::ok();
  }
  const int64_t ch = chunk_rows(n), chunks = (n + ch - 1) / ch;
  void* mem = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(name, sizeof(double) * chunks * ab, &mem));
  double* partial = static_cast<double*>(mem);
  CLEAVE_LAUNCH(name, block_gram_partial_kernel, dim3((unsigned)chunks), dim3(kThreads), n, ch, x, ldx, a, y, ldy, b,
                partial);
  CLEAVE_LAUNCH(name, block_sum_chunks_kernel, dim3(cleave_cuda::grid_for(block_sum_chunks_kernel, ab, kThreads, kMaxBlocks)), dim3(kThreads),
                partial, (int)chunks, ab, g, 0);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(block_sub_mul)(int64_t n, const double* x, int64_t ldx, int a, const double* g, double* y,
                                      int64_t ldy, int b) {
  CLEAVE_CUDA_ENTER("block_sub_mul");
  const char* name = "block_sub_mul";
  CLEAVE_REQUIRE(name, x && y && (g || a == 0), "x, g and y must not be null");
  CLEAVE_REQUIRE(name, n >= 0 && a >= 0 && b >= 0 && ldx >= a && ldy >= b,
                 "need n, a, b >= 0, ldx >= a and ldy >= b; got n = %lld, a = %d, b = %d, ldx = %lld, ldy = %lld",
                 (long long)n, a, b, (long long)ldx, (long long)ldy);
  if (n == 0 || a == 0 || b == 0) return cleave_cuda::ok();
  CLEAVE_LAUNCH(name, block_sub_mul_kernel, dim3(cleave_cuda::grid_for(block_sub_mul_kernel, n * b, kThreads, kMaxBlocks)), dim3(kThreads),
                n, x, ldx, a, g, y, ldy, b);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(block_mul_square)(int64_t n, double* x, int64_t ldx, int c, const double* q) {
  CLEAVE_CUDA_ENTER("block_mul_square");
  const char* name = "block_mul_square";
  CLEAVE_REQUIRE(name, x && q, "x and q must not be null");
  CLEAVE_REQUIRE(name, n >= 0 && c >= 0 && c <= kMaxSquare && ldx >= c,
                 "need n >= 0, 0 <= c <= %d and ldx >= c; got n = %lld, c = %d, ldx = %lld", kMaxSquare, (long long)n,
                 c, (long long)ldx);
  if (n == 0 || c == 0) return cleave_cuda::ok();
  const int64_t tiles = (n + kSquareRows - 1) / kSquareRows;
  CLEAVE_LAUNCH(name, block_mul_square_kernel, dim3(cleave_cuda::grid_for(block_mul_square_kernel, tiles * kThreads, kThreads, kMaxBlocks)), dim3(kThreads), n, x,
                ldx, c, q);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(block_residuals)(int64_t n, const double* x, const double* ax, int64_t ld, int k,
                                        const double* theta, double* out) {
  CLEAVE_CUDA_ENTER("block_residuals");
  const char* name = "block_residuals";
  CLEAVE_REQUIRE(name, x && ax && theta && out, "x, ax, theta and out must not be null");
  CLEAVE_REQUIRE(name, n >= 1 && k >= 0 && ld >= k, "need n >= 1, k >= 0 and ld >= k; got n = %lld, k = %d, ld = %lld",
                 (long long)n, k, (long long)ld);
  if (k == 0) return cleave_cuda::ok();
  const int64_t ch = chunk_rows(n), chunks = (n + ch - 1) / ch;
  void* mem = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(name, sizeof(double) * (chunks * k + 2 * k), &mem));
  double* th = static_cast<double*>(mem);  // theta (host) uploaded, then the partials, then the norms
  double* partial = th + k;
  double* norms = partial + chunks * k;
  CLEAVE_CUDA_TRY(name, cudaMemcpy(th, theta, sizeof(double) * k, cudaMemcpyHostToDevice));
  CLEAVE_LAUNCH(name, block_residual_partial_kernel, dim3((unsigned)chunks), dim3(kThreads), n, ch, x, ax, ld, k, th,
                partial);
  CLEAVE_LAUNCH(name, block_sum_chunks_kernel, dim3(cleave_cuda::grid_for(block_sum_chunks_kernel, k, kThreads, kMaxBlocks)), dim3(kThreads),
                partial, (int)chunks, k, norms, 1);
  CLEAVE_CUDA_TRY(name, cudaMemcpy(out, norms, sizeof(double) * k, cudaMemcpyDeviceToHost));
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(block_chebyshev_step)(int64_t count, double f, double c, double g, const double* y0,
                                             const double* y1, double* y2) {
  CLEAVE_CUDA_ENTER("block_chebyshev_step");
  const char* name = "block_chebyshev_step";
  CLEAVE_CHECK_BLOCK_CHEBYSHEV_STEP(name, y1, y2, count);
  if (count == 0) return cleave_cuda::ok();
  CLEAVE_LAUNCH(name, block_chebyshev_step_kernel, dim3(cleave_cuda::grid_for(block_chebyshev_step_kernel, count, kThreads, kMaxBlocks)),
                dim3(kThreads), count, f, c, g, y0, y1, y2);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(block_copy)(int64_t n, const double* src, int64_t lds, int s0, double* dst, int64_t ldd, int d0,
                                   int c) {
  CLEAVE_CUDA_ENTER("block_copy");
  const char* name = "block_copy";
  CLEAVE_CHECK_BLOCK_COPY(name, n, src, lds, s0, dst, ldd, d0, c);
  if (n == 0 || c == 0) return cleave_cuda::ok();
  CLEAVE_LAUNCH(name, block_copy_kernel, dim3(cleave_cuda::grid_for(block_copy_kernel, n * c, kThreads, kMaxBlocks)), dim3(kThreads), n,
                src + s0, lds, dst + d0, ldd, c);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(kmeans_assign)(const double* x, int64_t n, int d, const double* centers, int k, int32_t* labels,
                                      double* dist) {
  CLEAVE_CUDA_ENTER("kmeans_assign");
  const char* name = "kmeans_assign";
  CLEAVE_REQUIRE(name, x && centers && labels && dist, "arrays must not be null");
  CLEAVE_REQUIRE(name, n >= 1 && d >= 1 && d <= kCenterDoubles && k >= 1,
                 "need n >= 1, 1 <= d <= %d and k >= 1; got n = %lld, d = %d, k = %d", kCenterDoubles, (long long)n, d,
                 k);
  CLEAVE_LAUNCH(name, kmeans_assign_kernel, dim3(cleave_cuda::grid_for(kmeans_assign_kernel, n, kThreads, kMaxBlocks)), dim3(kThreads), x, n,
                d, centers, k, labels, dist);
  return cleave_cuda::ok();
}
}
