// conv2d_forward / conv2d_backward on the GPU: three implicit GEMMs (no im2col buffer, no
// cuDNN/cuBLAS), each C[m][n] = sum_k A(m, k) B(k, n) with A and B gathered from the NCHW
// tensors on the fly:
//   forward (kFwd): M = out, N = batch*oh*ow, K = in*k*k; A = w, B = the patches of x;
//                   epilogue: + bias, ReLU, stored as y[n][o][oh][ow].
//   dx (kDx):       M = in, N = batch*h*w, K = out*k*k; A(i, (o,kh,kw)) = w[o][i][kh][kw],
//                   B((o,kh,kw), (n,ih,iw)) = dy[n][o][(ih+p-kh)/s][(iw+p-kw)/s] where that
//                   divides and lies inside, else 0: each input pixel gathers its own sum, so
//                   no atomics and a fixed order.
//   dw (kDw):       M = out, N = in*k*k, K = batch*oh*ow; A = dy, B = the patches of x
//                   transposed. K is long (the whole batch), so K is split into `splits`
//                   fixed chunks (grid.z) whose partials go to scratch and are summed in chunk
//                   order by dw_reduce: deterministic.
// The tiling is linear.cu's: a block computes a BM x BN tile walking K in steps of kBK, staging
// both tiles in shared memory (k-major), each thread a 4 x 4 micro-tile; 64 x 64 tiles (256
// threads) when that fills every SM, else 32 x 32 (64 threads). Before the GEMMs the backward
// pass runs conv_mask_bias_grad: one block per output channel masks dy by (y > 0) in place and
// sums it into db (block reduction in a fixed order).
//
// Timed by cuda/bench/cuda_kernel_bench.cu (command in its header).
#include <algorithm>
#include "common.cuh"

namespace {
constexpr int kBK = 16;
enum Mode { kFwd = 0, kDx = 1, kDw = 2 };

struct ConvArgs {
  const float* x;
  const float* w;
  const float* dy;
  const float* bias;
  float* out;
  int batch, in, h, wd, outc, k, stride, pad, oh, ow, relu;
  int M, N, K;
  int k_chunk;  // dw: K range per grid.z slice
};

template <int MODE>
__device__ __forceinline__ float load_a(const ConvArgs& a, int m, int kk) {
  if (MODE == kFwd) return a.w[(int64_t)m * a.K + kk];
  if (MODE == kDx) {
    const int kk2 = a.k * a.k;
    const int o = kk / kk2, t = kk % kk2;
    return a.w[((int64_t)o * a.in + m) * kk2 + t];
  }
  // kDw: A(o, (n, r, c)) = dy[n][o][r][c]
  const int ohw = a.oh * a.ow;
  const int n = kk / ohw, rem = kk % ohw;
  return a.dy[((int64_t)n * a.outc + m) * ohw + rem];
}

template <int MODE>
__device__ __forceinline__ float load_b(const ConvArgs& a, int kk, int col) {
  const int kk2 = a.k * a.k;
  if (MODE == kFwd || MODE == kDw) {
    // patch element (i, kh, kw) of output position (n, r, c)
    const int pk = MODE == kFwd ? kk : col;
    const int pn = MODE == kFwd ? col : kk;
    const int ohw = a.oh * a.ow;
    const int n = pn / ohw, rem = pn % ohw, r = rem / a.ow, c = rem % a.ow;
    const int i = pk / kk2, t = pk % kk2, kh = t / a.k, kw = t % a.k;
    const int ih = r * a.stride - a.pad + kh, iw = c * a.stride - a.pad + kw;
    if (ih < 0 || ih >= a.h || iw < 0 || iw >= a.wd) return 0.0f;
    return a.x[(((int64_t)n * a.in + i) * a.h + ih) * a.wd + iw];
  }
  // kDx: B((o, kh, kw), (n, ih, iw))
  const int hw = a.h * a.wd;
  const int n = col / hw, rem = col % hw, ih = rem / a.wd, iw = rem % a.wd;
  const int o = kk / kk2, t = kk % kk2, kh = t / a.k, kw = t % a.k;
  const int rs = ih + a.pad - kh, cs = iw + a.pad - kw;
  if (rs < 0 || cs < 0 || rs % a.stride != 0 || cs % a.stride != 0) return 0.0f;
  const int r = rs / a.stride, c = cs / a.stride;
  if (r >= a.oh || c >= a.ow) return 0.0f;
  return a.dy[(((int64_t)n * a.outc + o) * a.oh + r) * a.ow + c];
}

template <int BM, int BN, int MODE>
__global__ void __launch_bounds__((BM / 4) * (BN / 4)) conv_gemm(ConvArgs a, float* partial) {
  constexpr int kCols = BN / 4, kRows = BM / 4, kThreads = kCols * kRows;
  CLEAVE_SHARED(float, As, [kBK][BM + 1]);
  CLEAVE_SHARED(float, Bs, [kBK][BN + 1]);
  const int tid = threadIdx.x, tx = tid % kCols, ty = tid / kCols;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int kbeg = MODE == kDw ? blockIdx.z * a.k_chunk : 0;
  const int kend = MODE == kDw ? (a.K < kbeg + a.k_chunk ? a.K : kbeg + a.k_chunk) : a.K;
  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;
  for (int k0 = kbeg; k0 < kend; k0 += kBK) {
#pragma unroll
    for (int l = 0; l < BM * kBK / kThreads; ++l) {
      const int e = tid + l * kThreads;
      const int m = e / kBK, kk = e % kBK;  // consecutive threads walk k
      const int gm = m0 + m, gk = k0 + kk;
      As[kk][m] = (gm < a.M && gk < kend) ? load_a<MODE>(a, gm, gk) : 0.0f;
    }
#pragma unroll
    for (int l = 0; l < BN * kBK / kThreads; ++l) {
      const int e = tid + l * kThreads;
      const int n = e % BN, kk = e / BN;  // consecutive threads walk n
      const int gn = n0 + n, gk = k0 + kk;
      Bs[kk][n] = (gn < a.N && gk < kend) ? load_b<MODE>(a, gk, gn) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) av[i] = As[kk][ty + i * kRows];
#pragma unroll
      for (int j = 0; j < 4; ++j) bv[j] = Bs[kk][tx + j * kCols];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + ty + i * kRows;
    if (m >= a.M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int n = n0 + tx + j * kCols;
      if (n >= a.N) continue;
      float v = acc[i][j];
      if (MODE == kFwd) {
        if (a.bias) v += a.bias[m];
        if (a.relu) v = v > 0.0f ? v : 0.0f;
        const int ohw = a.oh * a.ow;
        a.out[((int64_t)(n / ohw) * a.outc + m) * ohw + n % ohw] = v;
      } else if (MODE == kDx) {
        const int hw = a.h * a.wd;
        a.out[((int64_t)(n / hw) * a.in + m) * hw + n % hw] = v;
      } else {
        partial[((int64_t)blockIdx.z * a.M + m) * a.N + n] = v;
      }
    }
  }
}

// dw[i] = sum over the splits, in order, of partial[z][i].
__global__ void __launch_bounds__(256) dw_reduce(const float* partial, float* dw, int64_t count, int splits) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x) {
    float s = 0.0f;
    for (int z = 0; z < splits; ++z) s += partial[(int64_t)z * count + i];
    dw[i] = s;
  }
}

constexpr int kMaskThreads = 256;

// One block per output channel o: dy[n][o] *= (y[n][o] > 0) when relu; db[o] = sum of dy[n][o].
__global__ void __launch_bounds__(kMaskThreads)
    conv_mask_bias_grad(const float* y, float* dy, float* db, int batch, int outc, int ohw, int relu) {
  const int o = blockIdx.x;
  double sum = 0.0;
  for (int64_t e = threadIdx.x; e < (int64_t)batch * ohw; e += kMaskThreads) {
    const int64_t at = ((e / ohw) * outc + o) * ohw + e % ohw;
    float v = dy[at];
    if (relu) {
      v = y[at] > 0.0f ? v : 0.0f;
      dy[at] = v;
    }
    sum += v;
  }
  const double2 total = cleave_cuda::block_sum2<kMaskThreads>(sum, 0.0);
  if (db && threadIdx.x == 0) db[o] = (float)total.x;
}

template <int MODE>
int launch_gemm(const char* op, const ConvArgs& a, float* partial, int splits) {
  static const char* const kNames[2][3] = {{"conv_gemm<32x32,fwd>", "conv_gemm<32x32,dx>", "conv_gemm<32x32,dw>"},
                                           {"conv_gemm<64x64,fwd>", "conv_gemm<64x64,dx>", "conv_gemm<64x64,dw>"}};
  const int64_t big_tiles = (int64_t)((a.M + 63) / 64) * ((a.N + 63) / 64) * splits;
  const bool big = big_tiles >= cleave_cuda::sm_count();
  const char* name = kNames[big][MODE];
  cudaError_t err;
  if (big) {
    const dim3 grid((a.N + 63) / 64, (a.M + 63) / 64, splits);
    err = cleave_cuda::launch(name, conv_gemm<64, 64, MODE>, grid, dim3(256), a, partial);
  } else {
    const dim3 grid((a.N + 31) / 32, (a.M + 31) / 32, splits);
    err = cleave_cuda::launch(name, conv_gemm<32, 32, MODE>, grid, dim3(64), a, partial);
  }
  if (err != cudaSuccess) return cleave_cuda::cuda_error(op, __FILE__, __LINE__, name, err);
  return 0;
}

int make_args(const char* op, const float* x, const float* w, const float* dy, const float* b, float* out, int batch,
              int in, int h, int wd, int outc, int k, int stride, int pad, int relu, ConvArgs* a) {
  CLEAVE_CHECK_CONV2D_GEOMETRY(op, batch, in, h, wd, outc, k, stride, pad);
  *a = ConvArgs{x, w, dy, b, out, batch, in, h, wd, outc, k, stride, pad,
                (h + 2 * pad - k) / stride + 1, (wd + 2 * pad - k) / stride + 1, relu, 0, 0, 0, 0};
  CLEAVE_REQUIRE(op, (int64_t)batch * in * h * wd < INT32_MAX && (int64_t)batch * outc * a->oh * a->ow < INT32_MAX,
                 "tensors must have fewer than 2^31 elements");
  return 0;
}
}  // namespace

extern "C" {
int CLEAVE_CUDA_KERNEL(conv2d_forward)(const float* x, const float* w, const float* b, float* y, int batch,
                                       int in_channels, int height, int width, int out_channels, int kernel,
                                       int stride, int padding, int relu) {
  const char* op = "conv2d_forward";
  CLEAVE_CHECK_CONV2D_FORWARD_POINTERS(op, x, w, y);
  ConvArgs a{};
  CLEAVE_RETURN_IF(make_args(op, x, w, nullptr, b, y, batch, in_channels, height, width, out_channels, kernel, stride,
                             padding, relu, &a));
  a.M = out_channels;
  a.N = batch * a.oh * a.ow;
  a.K = in_channels * kernel * kernel;
  CLEAVE_RETURN_IF(launch_gemm<kFwd>(op, a, nullptr, 1));
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_KERNEL(conv2d_backward)(const float* x, const float* w, const float* y, float* dy, float* dx,
                                        float* dw, float* db, int batch, int in_channels, int height, int width,
                                        int out_channels, int kernel, int stride, int padding, int relu) {
  const char* op = "conv2d_backward";
  CLEAVE_CHECK_CONV2D_BACKWARD_POINTERS(op, x, w, y, dy, dw, relu);
  ConvArgs a{};
  CLEAVE_RETURN_IF(make_args(op, x, w, dy, nullptr, nullptr, batch, in_channels, height, width, out_channels, kernel,
                             stride, padding, 0, &a));
  const int ohw = a.oh * a.ow;
  if (relu || db)
    CLEAVE_LAUNCH(op, conv_mask_bias_grad, dim3(out_channels), dim3(kMaskThreads), y, dy, db, batch, out_channels, ohw,
                  relu);
  // dw: split K = batch*oh*ow into chunks (multiples of kBK) so that the grid fills the device.
  ConvArgs g = a;
  g.M = out_channels;
  g.N = in_channels * kernel * kernel;
  g.K = batch * ohw;
  const int64_t tiles = (int64_t)((g.M + 31) / 32) * ((g.N + 31) / 32);
  int splits = (int)std::min<int64_t>(64, std::max<int64_t>(1, (2 * cleave_cuda::sm_count() + tiles - 1) / tiles));
  splits = (int)std::max<int64_t>(1, std::min<int64_t>(splits, g.K / (4 * kBK)));
  g.k_chunk = ((g.K + splits - 1) / splits + kBK - 1) / kBK * kBK;
  splits = (g.K + g.k_chunk - 1) / g.k_chunk;
  void* mem = nullptr;
  const int64_t count = (int64_t)g.M * g.N;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(op, sizeof(float) * count * splits, &mem));
  float* partial = static_cast<float*>(mem);
  CLEAVE_RETURN_IF(launch_gemm<kDw>(op, g, partial, splits));
  CLEAVE_LAUNCH(op, dw_reduce, dim3(cleave_cuda::grid_for(dw_reduce, count, 256, 4096)), dim3(256), partial, dw, count, splits);
  if (dx) {
    ConvArgs d = a;
    d.out = dx;
    d.M = in_channels;
    d.N = batch * height * width;
    d.K = out_channels * kernel * kernel;
    CLEAVE_RETURN_IF(launch_gemm<kDx>(op, d, nullptr, 1));
  }
  return cleave_cuda::ok();
}
}
