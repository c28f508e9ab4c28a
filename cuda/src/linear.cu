// linear_forward / linear_backward: the MLP's dense layer on the GPU, with one hand-written
// tiled GEMM (no cuBLAS) used three ways:
//   forward  y  = x w^T (+ b, ReLU)   A = x  (batch x in, k-contiguous), B = w (out x in, k-contiguous)
//   backward dw = dy^T x              A = dy (batch x out, stored k-major), B = x (batch x in, n-contiguous)
//            dx = dy w                A = dy (k-contiguous),               B = w (out x in, n-contiguous)
// C[m][n] = sum_k A(m, k) B(k, n). A block computes a BM x BN tile of C, walking k in steps of
// BK: it stages the A and B tiles in shared memory (transposed to k-major, so the inner loop
// reads a row of each), then each thread accumulates a TM x TN micro-tile in registers, its rows
// and columns strided by the thread grid so that shared-memory reads are broadcasts or
// consecutive and the stores to C are coalesced. Out-of-range elements of partial tiles load as
// zero and are not stored. The forward epilogue adds the bias and applies the ReLU.
//
// Two tile shapes: 64 x 64 (256 threads, 4 x 4 per thread) when that already gives every SM a
// block, else 32 x 32 (64 threads, 4 x 4 per thread) so that small layers spread over more SMs.
//
// linear_backward first runs relu_mask_bias_grad: one pass over dy that applies the ReLU mask in
// place and sums the columns into db (a block per 32 columns; 8 row groups, then a fixed-order
// sum over the groups: deterministic).
//
// The fused ops of the training step (issue 17) reuse the same tile code (gemm_tile) with more in
// its epilogue: linear_dropout_forward draws the dropout mask and applies it after the bias and
// ReLU (one launch per layer), and linear_dropout_backward is one launch (linear_backward_grouped)
// whose blocks compute dw tiles, dx tiles with the layer below's dropout and ReLU masks in their
// epilogue, and db columns in relu_mask_bias_grad's order. Each output element is computed by the
// same float operations in the same order as by the unfused ops, and the tile shape never changes
// a sum's order, so the fused results are bit for bit the unfused ones.
//
// Timed by cuda/bench/cuda_kernel_bench.cu (command in its header).
#include <climits>
#include "common.cuh"

namespace {
constexpr int kBK = 16;
// Row padding of the shared tiles tile[k][r] (row stride R + kPad, R = 32 or 64): a warp staging a
// k-contiguous tile stores k = 0..15 of two rows r, r+1, at banks (k (R + kPad) + r) mod 32 =
// 2k + r: all 32 distinct (with a padding of 1, rows r and r+1 shared 15 banks: 2-way conflicts).
// The inner loop reads along a row (broadcasts or consecutive words) whatever the padding.
constexpr int kPad = 2;

template <int BM, int BN, int TM, int TN>
struct GemmShape {
  static constexpr int kThreads = (BM / TM) * (BN / TN);
  static constexpr int kColThreads = BN / TN;  // threads along n
  static constexpr int kRowThreads = BM / TM;  // threads along m
  static_assert(kThreads % 32 == 0, "block size must be a multiple of 32");
};

// Copies the kBK x R tile of a matrix X (R = BM rows of A, or BN columns of B) at (r0, k0)
// into shared memory as tile[k][r], zero-filling what lies outside r_total x K. X(r, k) is
// X[r * ld + k] when k-contiguous, else X[k * ld + r]; consecutive threads read consecutive
// addresses either way.
template <int R, int kThreads, bool kKContig>
__device__ __forceinline__ void stage_tile(const float* X, int ld, int r0, int r_total, int k0, int K,
                                           float (*tile)[R + kPad], int tid) {
  static_assert(R * kBK % kThreads == 0, "tile loads must divide evenly");
#pragma unroll
  for (int l = 0; l < R * kBK / kThreads; ++l) {
    const int e = tid + l * kThreads;
    const int r = kKContig ? e / kBK : e % R;
    const int k = kKContig ? e % kBK : e / R;
    const int gr = r0 + r, gk = k0 + k;
    float v = 0.0f;
    if (gr < r_total && gk < K) v = kKContig ? X[(int64_t)gr * ld + gk] : X[(int64_t)gk * ld + gr];
    tile[k][r] = v;
  }
}

// What a tile's epilogue does to each element v of C after the GEMM, in this order: + bias[n];
// ReLU; dropout (mask drawn from (seed, stream, index) into drop_mask, v *= it: dropout_forward
// fused); v *= mul_mask[index]; v = 0 where relu_of[index] <= 0 (the masks of the layer below in
// the backward pass: dropout_backward and the ReLU mask fused). index = m * ldc + n. Every step is
// the same float operation as the unfused op's, so the results are bit for bit theirs.
struct Epilogue {
  const float* bias;
  int relu;
  float* drop_mask;
  float p, keep;
  uint64_t seed, stream;
  const float* mul_mask;
  const float* relu_of;
};

// Tile `tile` (n-tiles fastest) of C = A B with epilogue ep, staged through As and Bs. lda, ldb,
// ldc are the row strides of A, B and C as stored.
template <int BM, int BN, int TM, int TN, bool kAKContig, bool kBKContig>
__device__ __forceinline__ void gemm_tile(const float* A, const float* B, float* C, int M, int N, int K,
                                          int lda, int ldb, int ldc, int tile, int n_tiles,
                                          const Epilogue& ep, float (*As)[BM + kPad], float (*Bs)[BN + kPad]) {
  using S = GemmShape<BM, BN, TM, TN>;
  const int tid = threadIdx.x;
  const int tx = tid % S::kColThreads;
  const int ty = tid / S::kColThreads;
  // One grid dimension (up to 2^31 - 1 tiles), n-tiles fastest: gridDim.y would cap M at 65535 tiles.
  const int m0 = (int)((unsigned)tile / (unsigned)n_tiles) * BM;
  const int n0 = (int)((unsigned)tile % (unsigned)n_tiles) * BN;

  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += kBK) {
    stage_tile<BM, S::kThreads, kAKContig>(A, lda, m0, M, k0, K, As, tid);
    stage_tile<BN, S::kThreads, kBKContig>(B, ldb, n0, N, k0, K, Bs, tid);
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      float a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = As[kk][ty + i * S::kRowThreads];
#pragma unroll
      for (int j = 0; j < TN; ++j) b[j] = Bs[kk][tx + j * S::kColThreads];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int m = m0 + ty + i * S::kRowThreads;
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int n = n0 + tx + j * S::kColThreads;
      if (n >= N) continue;
      const int64_t idx = (int64_t)m * ldc + n;
      float v = acc[i][j];
      if (ep.bias) v += ep.bias[n];
      if (ep.relu) v = v > 0.0f ? v : 0.0f;
      if (ep.drop_mask) {
        const float mk = cleave_shared::dropout_uniform(ep.seed, ep.stream, (uint64_t)idx) >= ep.p ? ep.keep : 0.0f;
        ep.drop_mask[idx] = mk;
        v *= mk;
      }
      if (ep.mul_mask) v *= ep.mul_mask[idx];
      if (ep.relu_of) v = ep.relu_of[idx] > 0.0f ? v : 0.0f;
      C[idx] = v;
    }
  }
}

// C = A B with the epilogue's steps (each pointer NULL = step off), one tile per block.
template <int BM, int BN, int TM, int TN, bool kAKContig, bool kBKContig>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    gemm_kernel(const float* A, const float* B, float* C, int M, int N, int K, int lda, int ldb,
                int ldc, int n_tiles, const float* bias, int relu, float* drop_mask, float p,
                float keep, uint64_t seed, uint64_t stream, const float* mul_mask,
                const float* relu_of) {
  CLEAVE_SHARED(float, As, [kBK][BM + kPad]);
  CLEAVE_SHARED(float, Bs, [kBK][BN + kPad]);
  const Epilogue ep{bias, relu, drop_mask, p, keep, seed, stream, mul_mask, relu_of};
  gemm_tile<BM, BN, TM, TN, kAKContig, kBKContig>(A, B, C, M, N, K, lda, ldb, ldc, (int)blockIdx.x,
                                                  n_tiles, ep, As, Bs);
}

// Launches C (M x N) = A B with the tile shape that suits the problem size.
template <bool kAKContig, bool kBKContig>
int gemm(const char* op, const float* A, const float* B, float* C, int M, int N, int K, int lda,
         int ldb, int ldc, const Epilogue& ep) {
  // Names for errors and the emulator's launch log: tile, then A and B as stored (k = k-contiguous).
  static const char* const kNames[2][2][2] = {
      {{"gemm_kernel<32x32,A:m,B:n>", "gemm_kernel<32x32,A:m,B:k>"},
       {"gemm_kernel<32x32,A:k,B:n>", "gemm_kernel<32x32,A:k,B:k>"}},
      {{"gemm_kernel<64x64,A:m,B:n>", "gemm_kernel<64x64,A:m,B:k>"},
       {"gemm_kernel<64x64,A:k,B:n>", "gemm_kernel<64x64,A:k,B:k>"}}};
  const int64_t big_tiles = (int64_t)((M + 63) / 64) * ((N + 63) / 64);
  const bool big = big_tiles >= cleave_cuda::sm_count();
  const char* name = kNames[big][kAKContig][kBKContig];
  const int tile = big ? 64 : 32;
  const int64_t m_tiles = (M + tile - 1) / tile, n_tiles = (N + tile - 1) / tile;
  CLEAVE_REQUIRE(op, m_tiles * n_tiles <= INT_MAX,
                 "a %d x %d result has %lld tiles of %d x %d, more than one launch takes (2^31 - 1)", M, N,
                 (long long)(m_tiles * n_tiles), tile, tile);
  const dim3 grid((unsigned)(m_tiles * n_tiles));
  cudaError_t err;
  if (big)
    err = cleave_cuda::launch(name, gemm_kernel<64, 64, 4, 4, kAKContig, kBKContig>, grid, dim3(256),
                              A, B, C, M, N, K, lda, ldb, ldc, (int)n_tiles, ep.bias, ep.relu,
                              ep.drop_mask, ep.p, ep.keep, ep.seed, ep.stream, ep.mul_mask, ep.relu_of);
  else
    err = cleave_cuda::launch(name, gemm_kernel<32, 32, 4, 4, kAKContig, kBKContig>, grid, dim3(64),
                              A, B, C, M, N, K, lda, ldb, ldc, (int)n_tiles, ep.bias, ep.relu,
                              ep.drop_mask, ep.p, ep.keep, ep.seed, ep.stream, ep.mul_mask, ep.relu_of);
  return cleave_cuda::after_launch(op, __FILE__, __LINE__, name, err);
}

// An epilogue with the bias and ReLU only.
__host__ __device__ inline Epilogue plain(const float* bias, int relu) {
  return Epilogue{bias, relu, nullptr, 0.0f, 0.0f, 0, 0, nullptr, nullptr};
}

constexpr int kMaskCols = 32;
constexpr int kMaskRowGroups = 8;

// dy (batch x out): dy *= (y > 0) when relu; db[c] = sum_r dy[r][c] when db != null.
__global__ void __launch_bounds__(kMaskCols * kMaskRowGroups)
    relu_mask_bias_grad(const float* y, float* dy, float* db, int batch, int out, int relu) {
  CLEAVE_SHARED(float, part, [kMaskRowGroups][kMaskCols + 1]);
  const int tx = threadIdx.x % kMaskCols;
  const int ty = threadIdx.x / kMaskCols;
  const int c = blockIdx.x * kMaskCols + tx;
  float sum = 0.0f;
  if (c < out) {
    for (int r = ty; r < batch; r += kMaskRowGroups) {
      const int64_t i = (int64_t)r * out + c;
      float v = dy[i];
      if (relu) {
        v = y[i] > 0.0f ? v : 0.0f;
        dy[i] = v;
      }
      sum += v;
    }
  }
  if (!db) return;  // uniform over the block
  part[ty][tx] = sum;
  __syncthreads();
  if (ty == 0 && c < out) {
    float total = 0.0f;
#pragma unroll
    for (int g = 0; g < kMaskRowGroups; ++g) total += part[g][tx];
    db[c] = total;
  }
}

// linear_dropout_backward in one launch: blocks [0, dw_tiles) compute tiles of dw = dy^T x,
// blocks [dw_tiles, dw_tiles + dx_tiles) tiles of dx = dy w with the masks of the layer below in
// their epilogue, and the rest db: one thread per column, summing the column exactly as
// relu_mask_bias_grad does (kMaskRowGroups strided partial sums, then those in order), so db is
// bit for bit linear_backward's. The three parts read dy and write disjoint outputs.
template <int BM, int TM>
__global__ void __launch_bounds__((BM / TM) * (BM / TM))
    linear_backward_grouped(const float* x, const float* w, const float* x_mask, const float* dy,
                            float* dx, float* dw, float* db, int batch, int in, int out,
                            int relu_x, int dw_tiles, int dw_n_tiles, int dx_tiles, int dx_n_tiles) {
  constexpr int kThreads = (BM / TM) * (BM / TM);
  CLEAVE_SHARED(float, As, [kBK][BM + kPad]);
  CLEAVE_SHARED(float, Bs, [kBK][BM + kPad]);
  const int b = (int)blockIdx.x;
  if (b < dw_tiles) {
    // dw (out x in) = dy^T x: A(m, k) = dy[k][m] (stored k-major), B(k, n) = x[k][n].
    gemm_tile<BM, BM, TM, TM, false, false>(dy, x, dw, out, in, batch, out, in, in, b, dw_n_tiles,
                                            plain(nullptr, 0), As, Bs);
  } else if (b < dw_tiles + dx_tiles) {
    // dx (batch x in) = dy w: A = dy (k-contiguous), B(k, n) = w[k][n]; then the masks of x.
    const Epilogue ep{nullptr, 0, nullptr, 0.0f, 0.0f, 0, 0, x_mask, relu_x ? x : nullptr};
    gemm_tile<BM, BM, TM, TM, true, false>(dy, w, dx, batch, in, out, out, in, in, b - dw_tiles,
                                           dx_n_tiles, ep, As, Bs);
  } else {
    const int c = (b - dw_tiles - dx_tiles) * kThreads + (int)threadIdx.x;
    if (c < out) {
      float total = 0.0f;
      for (int g = 0; g < kMaskRowGroups; ++g) {
        float sum = 0.0f;
        for (int r = g; r < batch; r += kMaskRowGroups) sum += dy[(int64_t)r * out + c];
        total += sum;
      }
      db[c] = total;
    }
  }
}

const char* const kForward = "linear_forward";
const char* const kBackward = "linear_backward";
const char* const kDropoutForward = "linear_dropout_forward";
const char* const kDropoutBackward = "linear_dropout_backward";
}  // namespace

extern "C" {
int CLEAVE_CUDA_KERNEL(linear_forward)(const float* x, const float* w, const float* b, float* y,
                                       int batch, int in, int out, int relu) {
  CLEAVE_CUDA_ENTER("linear_forward");
  CLEAVE_CHECK_LINEAR_FORWARD(kForward, x, w, y, batch, in, out);
  // y (batch x out) = x (batch x in) . w^T: A = x (k-contiguous), B(k, n) = w[n][k].
  CLEAVE_RETURN_IF((gemm<true, true>(kForward, x, w, y, batch, out, in, in, in, out, plain(b, relu))));
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(linear_backward)(const float* x, const float* w, const float* y, float* dy,
                                        float* dx, float* dw, float* db, int batch, int in,
                                        int out, int relu) {
  CLEAVE_CUDA_ENTER("linear_backward");
  CLEAVE_CHECK_LINEAR_BACKWARD(kBackward, x, w, y, dy, dw, batch, in, out, relu);
  if (relu || db) {
    const dim3 grid((out + kMaskCols - 1) / kMaskCols);
    CLEAVE_LAUNCH(kBackward, relu_mask_bias_grad, grid, dim3(kMaskCols * kMaskRowGroups), y, dy, db,
                  batch, out, relu);
  }
  // dw (out x in) = dy^T x: A(m, k) = dy[k][m] (stored k-major), B(k, n) = x[k][n].
  CLEAVE_RETURN_IF((gemm<false, false>(kBackward, dy, x, dw, out, in, batch, out, in, in, plain(nullptr, 0))));
  // dx (batch x in) = dy w: A = dy (k-contiguous), B(k, n) = w[k][n].
  if (dx)
    CLEAVE_RETURN_IF((gemm<true, false>(kBackward, dy, w, dx, batch, in, out, out, in, in, plain(nullptr, 0))));
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(linear_dropout_forward)(const float* x, const float* w, const float* b, float* y,
                                               float* mask, int batch, int in, int out, int relu,
                                               float p, uint64_t seed, uint64_t stream) {
  CLEAVE_CUDA_ENTER(kDropoutForward);
  CLEAVE_CHECK_LINEAR_FORWARD(kDropoutForward, x, w, y, batch, in, out);
  CLEAVE_REQUIRE(kDropoutForward, !mask || (p >= 0.0f && p < 1.0f), "p must be in [0, 1), got %g", p);
  Epilogue ep = plain(b, relu);
  if (mask) {
    ep.drop_mask = mask;
    ep.p = p;
    ep.keep = 1.0f / (1.0f - p);  // as dropout_forward computes it
    ep.seed = seed;
    ep.stream = stream;
  }
  CLEAVE_RETURN_IF((gemm<true, true>(kDropoutForward, x, w, y, batch, out, in, in, in, out, ep)));
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(linear_dropout_backward)(const float* x, const float* w, const float* x_mask,
                                                const float* dy, float* dx, float* dw, float* db,
                                                int batch, int in, int out, int relu_x) {
  CLEAVE_CUDA_ENTER(kDropoutBackward);
  CLEAVE_REQUIRE(kDropoutBackward, x && w && dy && dw, "x, w, dy and dw must not be null");
  CLEAVE_REQUIRE(kDropoutBackward, batch > 0 && in > 0 && out > 0,
                 "batch, in and out must be positive, got %d, %d, %d", batch, in, out);
  const int64_t big_tiles = (int64_t)((out + 63) / 64) * ((in + 63) / 64) +
                            (dx ? (int64_t)((batch + 63) / 64) * ((in + 63) / 64) : 0);
  const bool big = big_tiles >= cleave_cuda::sm_count();
  const int tile = big ? 64 : 32, threads = big ? 256 : 64;
  const int64_t dw_n = (in + tile - 1) / tile, dw_tiles = (int64_t)((out + tile - 1) / tile) * dw_n;
  const int64_t dx_n = dx ? dw_n : 0, dx_tiles = dx ? (int64_t)((batch + tile - 1) / tile) * dx_n : 0;
  const int64_t db_blocks = db ? (out + threads - 1) / threads : 0;
  const int64_t blocks = dw_tiles + dx_tiles + db_blocks;
  CLEAVE_REQUIRE(kDropoutBackward, blocks <= INT_MAX,
                 "dw %d x %d and dx %d x %d have %lld tiles of %d x %d, more than one launch takes (2^31 - 1)",
                 out, in, batch, in, (long long)blocks, tile, tile);
  const char* name = big ? "linear_backward_grouped<64x64>" : "linear_backward_grouped<32x32>";
  cudaError_t err;
  if (big)
    err = cleave_cuda::launch(name, linear_backward_grouped<64, 4>, dim3((unsigned)blocks), dim3(256), x, w,
                              x_mask, dy, dx, dw, db, batch, in, out, relu_x, (int)dw_tiles, (int)dw_n,
                              (int)dx_tiles, (int)dx_n);
  else
    err = cleave_cuda::launch(name, linear_backward_grouped<32, 4>, dim3((unsigned)blocks), dim3(64), x, w,
                              x_mask, dy, dx, dw, db, batch, in, out, relu_x, (int)dw_tiles, (int)dw_n,
                              (int)dx_tiles, (int)dx_n);
  CLEAVE_RETURN_IF(cleave_cuda::after_launch(kDropoutBackward, __FILE__, __LINE__, name, err));
  return cleave_cuda::ok();
}
}
