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
// <code>] (file:line)") and returns the CUDA error code (positive, never a cleave_status).
int cuda_error(const char* op, const char* file, int line, const char* what, cudaError_t err);
// Clears the thread's last error; returns 0.
int ok();
// Whether err is a sticky fault: after it every CUDA call of the process fails (the context is
// unusable), e.g. cudaErrorIllegalAddress, cudaErrorLaunchFailure.
bool is_sticky(cudaError_t err);
// Binds the calling host thread to the process's device (the one set_device chose; the
// runtime's default, device 0, until then): every extern "C" function that touches the device
// starts with CLEAVE_CUDA_ENTER, so work from any host thread lands on the chosen GPU.
int enter(const char* op);
// The synchronous checking mode (set_sync_check, or CLEAVE_CUDA_SYNC=1 in the environment): every
// launch is followed by cudaDeviceSynchronize, so a kernel that faults is named by its own op.
bool sync_check();
// After cleave_cuda::launch: in the synchronous checking mode waits for the kernel; records an
// error naming `op` and the kernel (a fault of this kernel, a sticky fault of an earlier one, or
// a launch error) and returns its code; 0 when all is well.
int after_launch(const char* op, const char* file, int line, const char* kernel, cudaError_t launch_err);
// The message buffer behind last_error().
const char* last_error();

#ifndef CLEAVE_CUDA_EMU
// Shared memory: `CLEAVE_SHARED(float, tile, [16][65]);` is `__shared__ float tile[16][65];`.
// The emulator (cuda_emu.h) registers each such variable so it can poison it before every block.
#define CLEAVE_SHARED(type, name, dims) __shared__ type name dims

// kernel<<<grid, block>>>(args...) behind a function both builds share (cuda_emu.h has the
// emulated one). Returns the launch error, if any. A stale error left by an earlier runtime call
// is cleared first (every call here is checked, so it was reported when it happened), so the
// error returned belongs to this launch or is a sticky fault of an earlier kernel.
template <typename... Params, typename... Args>
inline cudaError_t launch(const char*, void (*kernel)(Params...), dim3 grid, dim3 block,
                          Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "wrong number of kernel arguments");
  cudaGetLastError();
  kernel<<<grid, block>>>(static_cast<Params>(args)...);
  return cudaGetLastError();
}
#endif

// Device scratch memory owned by the calling host thread (grown on demand, freed when the
// thread ends): where ops with a host result put their partial sums and error flags.
int scratch(const char* op, size_t bytes, void** out);

// A device counter owned by the calling host thread, 0 between launches: a kernel whose last
// block must know it is last (softmax_xent_record) takes tickets from it and that last block
// puts it back to 0. Allocated and zeroed on first use, freed when the thread ends.
int launch_counter(const char* op, unsigned** out);

// Streaming multiprocessors of the current device.
int sm_count();

// Blocks of `threads` threads of `kernel` that fit on one SM at once, from the occupancy API
// (cudaOccupancyMaxActiveBlocksPerMultiprocessor: registers, shared memory and the block limit of
// the kernel as compiled for the current device), cached per kernel and device; at least 1.
int blocks_per_sm(const void* kernel, int threads);

// Blocks for a grid-stride loop over n elements with `threads` per block: one full wave of the
// device (SMs x the kernel's resident blocks per SM), fewer when n needs fewer, never more than
// `cap`. Only for kernels whose results do not depend on the grid size.
template <typename... Params>
inline unsigned grid_for(void (*kernel)(Params...), int64_t n, int threads, unsigned cap) {
  const int64_t need = (n + threads - 1) / threads;
  const int64_t fill = (int64_t)sm_count() * blocks_per_sm((const void*)kernel, threads);
  int64_t g = need < fill ? need : fill;
  if (g > (int64_t)cap) g = cap;
  return g < 1 ? 1u : (unsigned)g;
}

// Per-block partials of a two-pass reduction over n items, chosen from n alone (never from the
// device), so the summation order, and with it every bit of the result, is the same on every
// GPU: one block per `per_block` items, at most kMaxPartials.
inline unsigned reduce_blocks(int64_t n, int64_t per_block);

// Largest number of per-block partials a two-pass reduction produces.
constexpr unsigned kMaxPartials = 1024;

inline unsigned reduce_blocks(int64_t n, int64_t per_block) {
  int64_t g = (n + per_block - 1) / per_block;
  if (g > (int64_t)kMaxPartials) g = kMaxPartials;
  return g < 1 ? 1u : (unsigned)g;
}

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

// CLEAVE_REQUIRE (a bad argument), CLEAVE_REQUIRE_FINITE (numbers gone bad), CLEAVE_RETURN_IF
// (a helper's status passed on), the argument
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
// error (or, in the synchronous checking mode, a fault of the kernel) returns from the calling
// function with the error recorded. Put a template kernel in parentheses:
// CLEAVE_LAUNCH(op, (gemm<64, 64>), grid, block, ...).
#define CLEAVE_LAUNCH(op, kernel, grid, block, ...)                                            \
  do {                                                                                         \
    const cudaError_t cleave_err_ =                                                            \
        ::cleave_cuda::launch(#kernel, kernel, grid, block, __VA_ARGS__);                      \
    CLEAVE_RETURN_IF(::cleave_cuda::after_launch(op, __FILE__, __LINE__, #kernel, cleave_err_)); \
  } while (0)

// First statement of every extern "C" function that touches the device (see enter()).
#define CLEAVE_CUDA_ENTER(op) CLEAVE_RETURN_IF(::cleave_cuda::enter(op))

#endif
