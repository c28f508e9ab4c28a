// Internal helpers shared by the kernel files of cuda/src: error reporting, launching, scratch
// memory, launch sizes and warp/block reductions. Every file here compiles two ways: with nvcc
// into libcleave_cuda (the real kernels), and with the host compiler plus cuda/emu/cuda_emu.h
// into libcleave_cuda_emu (the same kernels run on the CPU for the tests). So kernels use only
// what the emulator provides (see cuda/emu/cuda_emu.h): static shared arrays declared with
// CLEAVE_SHARED, block sizes that are multiples of 32, full-warp masks, and cleave_cuda::launch
// instead of <<<>>>.
#ifndef CLEAVE_CUDA_COMMON_CUH
#define CLEAVE_CUDA_COMMON_CUH

#ifdef CLEAVE_CUDA_EMU
// cuda_emu.h is force-included (-include) and defines the CUDA API on the CPU.
#else
#include <cuda_runtime.h>
#include "cleave_cuda.h"
#endif
#include <cstdarg>
#include <cstdint>

// Build kind reported by is_real(): 1 nvcc, 2 emulator (the stub reports 0).
#ifdef CLEAVE_CUDA_EMU
#define CLEAVE_CUDA_BUILD_KIND 2
#else
#define CLEAVE_CUDA_BUILD_KIND 1
#endif

namespace cleave_cuda {

// Records "op: message (cuda/src/file:line)" as the thread's last error; returns `status` (a
// cleave_status, native/include/cleave_status.h).
int fail(int status, const char* op, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 5, 6)));
// The same for an internal failure (out of host memory): returns CLEAVE_INTERNAL_ERROR.
int set_error(const char* op, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
// Records a CUDA runtime error for `op` ("op: what failed: <cuda message> [<name>, cuda error
// <code>] (file:line)") and returns CLEAVE_DEVICE_ERROR.
int cuda_error(const char* op, const char* file, int line, const char* what, cudaError_t err);
// Clears the thread's last error; returns 0.
int ok();
// The message buffer behind last_error().
const char* last_error();

#ifndef CLEAVE_CUDA_EMU
// Shared memory: `CLEAVE_SHARED(float, tile, [16][65]);` is `__shared__ float tile[16][65];`.
// The emulator (cuda_emu.h) registers each such variable so it can poison it before every block.
#define CLEAVE_SHARED(type, name, dims) __shared__ type name dims

// kernel<<<grid, block>>>(args...) behind a function both builds share (cuda_emu.h has the
// emulated one). Returns the launch error, if any.
template <typename... Params, typename... Args>
inline cudaError_t launch(const char*, void (*kernel)(Params...), dim3 grid, dim3 block,
                          Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "wrong number of kernel arguments");
  kernel<<<grid, block>>>(static_cast<Params>(args)...);
  return cudaGetLastError();
}
#endif

// Device scratch memory owned by the calling host thread (grown on demand, freed when the
// thread ends): where ops with a host result put their partial sums and error flags.
int scratch(const char* op, size_t bytes, void** out);

// Streaming multiprocessors of the current device (cached per device).
int sm_count();

// Blocks for a grid-stride loop over n elements with `threads` per block: enough to fill the
// device a few times over, never more than `cap`.
inline unsigned grid_for(int64_t n, int threads, unsigned cap) {
  const int64_t need = (n + threads - 1) / threads;
  const int64_t fill = (int64_t)sm_count() * 8;
  int64_t g = need < fill ? need : fill;
  if (g > (int64_t)cap) g = cap;
  return g < 1 ? 1u : (unsigned)g;
}

// Largest number of per-block partials a two-pass reduction produces.
constexpr unsigned kMaxPartials = 1024;

// Sums `count` pairs of partials (x, y) into *out with one block, in a fixed order, so the
// result does not depend on timing. partials and out are device memory.
int sum_pairs(const char* op, const double2* partials, int count, double2* out);

__device__ __forceinline__ double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum of (a, b) over a block of kThreads (a multiple of 32) threads; valid in thread 0. Uses
// static shared memory: call at most once per kernel.
template <int kThreads>
__device__ __forceinline__ double2 block_sum2(double a, double b) {
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "block size must be a multiple of 32");
  constexpr int kWarps = kThreads / 32;
  CLEAVE_SHARED(double, sa, [kWarps]);
  CLEAVE_SHARED(double, sb, [kWarps]);
  a = warp_sum(a);
  b = warp_sum(b);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) {
    sa[warp] = a;
    sb[warp] = b;
  }
  __syncthreads();
  double2 r = make_double2(0.0, 0.0);
  if (warp == 0) {
    a = lane < kWarps ? sa[lane] : 0.0;
    b = lane < kWarps ? sb[lane] : 0.0;
    a = warp_sum(a);
    b = warp_sum(b);
    r = make_double2(a, b);
  }
  return r;
}

}  // namespace cleave_cuda

// CLEAVE_REQUIRE (a bad argument), CLEAVE_REQUIRE_FINITE (numbers gone bad), the argument
// checks of the ops the cpu library implements too, and the dropout uniform: one header shared
// with native/src.
#define CLEAVE_FAIL ::cleave_cuda::fail
#include "cleave_shared.h"

// Runs a CUDA runtime call; on failure records it for `op` and returns its error code.
#define CLEAVE_CUDA_TRY(op, call)                                                              \
  do {                                                                                         \
    const cudaError_t cleave_err_ = (call);                                                    \
    if (cleave_err_ != cudaSuccess)                                                            \
      return ::cleave_cuda::cuda_error(op, __FILE__, __LINE__, #call, cleave_err_);            \
  } while (0)

// Launches kernel<<<grid, block>>>(args...) (on the emulator: runs it) for `op`; a launch
// error returns from the calling function with the error recorded. Put a template kernel in
// parentheses: CLEAVE_LAUNCH(op, (gemm<64, 64>), grid, block, ...).
#define CLEAVE_LAUNCH(op, kernel, grid, block, ...)                                            \
  do {                                                                                         \
    const cudaError_t cleave_err_ =                                                            \
        ::cleave_cuda::launch(#kernel, kernel, grid, block, __VA_ARGS__);                      \
    if (cleave_err_ != cudaSuccess)                                                            \
      return ::cleave_cuda::cuda_error(op, __FILE__, __LINE__, "launching " #kernel, cleave_err_); \
  } while (0)

// Propagates a nonzero status from a helper that already recorded its error.
#define CLEAVE_RETURN_IF(status)         \
  do {                                   \
    const int cleave_s_ = (status);      \
    if (cleave_s_ != 0) return cleave_s_; \
  } while (0)

#endif
