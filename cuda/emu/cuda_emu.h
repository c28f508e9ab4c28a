// CUDA emulation for the host compiler: lets the kernel sources of cuda/src compile with g++
// (`g++ -x c++ -include cuda_emu.h file.cu`) and run on the CPU, so every kernel is tested
// without a GPU. cuda/emu/CMakeLists.txt builds libcleave_cuda_emu.so this way.
//
// What it provides (the subset the kernels are written in):
//  - __global__ / __device__ / __host__ / __forceinline__ / __launch_bounds__ (no-ops).
//  - CLEAVE_SHARED(type, name, dims) declares shared memory (`__shared__ type name dims` under
//    nvcc): here a static variable, one copy per kernel (per template instance), shared by the
//    threads of the block that runs (blocks run one at a time, launches one at a time in the
//    process), registered with the runtime the first time it is reached and poisoned (every byte
//    0xFF: float NaN, int -1) then and before every block, as real shared memory starts
//    undefined. A bare __shared__ does not compile here: GCC drops section attributes on static
//    locals of function templates, so only explicit registration finds every variable. Only
//    static shared memory (no `extern __shared__`).
//  - threadIdx, blockIdx, blockDim, gridDim, warpSize; dim3, uint3, float2/4, double2, int2.
//  - __syncthreads, __syncwarp, __shfl_sync / _up / _down / _xor (4- and 8-byte types),
//    __ballot_sync, __any_sync, __all_sync, __popc, __ffs, __clz, atomicAdd (float, double,
//    int, unsigned, unsigned long long), atomicSub, atomicMin, atomicMax, atomicCAS, atomicExch,
//    __threadfence, __ldcg; host <cmath> for expf, logf, sqrtf, isfinite, ...
//  - cudaMalloc / cudaFree / cudaMemcpy / cudaMemset / cudaMemGetInfo, cudaDeviceSynchronize,
//    cudaMemcpyAsync / cudaMemsetAsync on the default stream, cudaMallocHost / cudaFreeHost,
//    events (cudaEventCreateWithFlags / Record / Synchronize / Query / Destroy),
//    cudaGetLastError / cudaPeekAtLastError / cudaGetErrorString / cudaGetErrorName, device
//    queries (one emulated device, compute capability 9.0, 4 SMs), cudaFuncGetAttributes.
//  - cleave_cuda::launch(name, kernel, grid, block, args...) in place of
//    kernel<<<grid, block>>>(args...): cuda/src/common.cuh defines it for nvcc, this file for
//    the emulator.
// See cuda/emu/README.md for how it schedules threads and what it cannot emulate faithfully.
#ifndef CLEAVE_CUDA_EMU_HARNESS_H
#define CLEAVE_CUDA_EMU_HARNESS_H
#ifdef __CUDACC__
#error "cuda_emu.h is for the host compiler; nvcc builds the real kernels"
#endif

#define CLEAVE_CUDA_EMU 1
#include "cleave_cuda_emu.h"  // the C ABI under its emulated names

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

// ---- qualifiers ----
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
// Shared memory: see CLEAVE_SHARED below.
#define __shared__ use_CLEAVE_SHARED_from_cuda_src_common_cuh_instead_of___shared__
#define CUDART_VERSION 13000

// ---- vector types ----
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) double2 { double x, y; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline double2 make_double2(double x, double y) { return {x, y}; }

using std::isfinite;
using std::isnan;
using std::isinf;

// ---- runtime API ----
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInsufficientDriver = 35,
  cudaErrorDevicesUnavailable = 46,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorNoKernelImageForDevice = 209,
  cudaErrorECCUncorrectable = 214,
  cudaErrorUnsupportedPtxVersion = 222,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchTimeout = 702,
  cudaErrorAssert = 710,
  cudaErrorHardwareStackError = 714,
  cudaErrorIllegalInstruction = 715,
  cudaErrorMisalignedAddress = 716,
  cudaErrorInvalidAddressSpace = 717,
  cudaErrorInvalidPc = 718,
  cudaErrorLaunchFailure = 719,
};
typedef cudaError_t cudaError;
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrComputeMode = 20,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrSingleToDoublePrecisionPerfRatio = 87,
};
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int major;
  int minor;
  int multiProcessorCount;
};
struct cudaFuncAttributes {
  size_t sharedSizeBytes;
  int maxThreadsPerBlock;
  int numRegs;
};

cudaError_t cudaMalloc(void** ptr, size_t bytes);
template <typename T>
inline cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemset(void* ptr, int value, size_t bytes);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaDeviceSynchronize(void);
// Streams and events: only the default stream (0) exists; work runs when it is issued, so an
// event is complete once recorded. Pinned host memory (cudaMallocHost) is tracked, so that
// cudaMemcpyAsync from pageable memory counts as the host synchronisation it is on a GPU.
typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;
enum { cudaEventDefault = 0, cudaEventBlockingSync = 1, cudaEventDisableTiming = 2 };
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = 0);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream = 0);
cudaError_t cudaMallocHost(void** ptr, size_t bytes);
cudaError_t cudaFreeHost(void* ptr);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = 0);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
const char* cudaGetErrorString(cudaError_t err);
const char* cudaGetErrorName(cudaError_t err);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
// Resident blocks per SM: the emulated SM holds 2048 threads and 32 blocks (no register or
// shared-memory limit is modelled).
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, const void* kernel, int threads, size_t shared);
template <typename F>
inline cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, F*) {
  if (attr) *attr = cudaFuncAttributes{0, 1024, 32};
  return cudaSuccess;
}

// ---- the execution model ----
namespace cleave_emu {

// What a CUDA thread sees of itself.
struct ThreadCtx {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
  int linear;  // threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)
  int lane;    // linear % 32
  int warp;    // linear / 32
};
// The CUDA thread running on this OS thread (fibers: the one the scheduler resumed last).
extern thread_local ThreadCtx* tls_ctx;
inline const ThreadCtx& ctx() { return *tls_ctx; }

// Barriers and warp exchange, implemented by the scheduler (cuda_emu_runtime.cpp).
void block_barrier();
void warp_barrier(unsigned mask);
// Every lane of `mask` offers `value`; returns the value offered by lane `src` (which must be in
// the mask). All lanes of the mask must call it together, with the same mask.
uint64_t warp_exchange(unsigned mask, uint64_t value, int src);
// Every lane of `mask` offers pred; returns the bits of the lanes whose pred != 0.
unsigned warp_ballot(unsigned mask, int pred);

// A kernel with its arguments, as the scheduler sees it.
struct Task {
  void (*run)(const void* self);
  const void* self;
};
// Pointer arguments of a launch, checked against the emulated device allocations.
struct PointerArg {
  int index;
  const void* ptr;
};
cudaError_t run_launch(const char* name, dim3 grid, dim3 block, Task task, const PointerArg* ptrs,
                       int n_ptrs);

// Registers a shared-memory variable (CLEAVE_SHARED) and poisons it; the runtime poisons every
// registered variable again before each block. Returns true.
bool register_shared(void* p, size_t bytes);

template <typename T>
inline void collect_pointer(PointerArg* out, int* n, int index, const T& value) {
  if constexpr (std::is_pointer<T>::value) {
    if (value != nullptr) out[(*n)++] = PointerArg{index, (const void*)value};
  }
}

template <typename Tuple, std::size_t... I>
inline int collect_pointers(const Tuple& t, PointerArg* out, std::index_sequence<I...>) {
  int n = 0;
  (collect_pointer(out, &n, (int)I, std::get<I>(t)), ...);
  return n;
}

template <typename Fn, typename Tuple>
struct Bound {
  Fn fn;
  Tuple args;  // each emulated thread gets its own copy of the arguments, as on the GPU
  static void run(const void* self) {
    const Bound* b = static_cast<const Bound*>(self);
    Tuple copy = b->args;
    std::apply(b->fn, copy);
  }
};

template <typename T>
inline uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value,
                "warp shuffles move 4- and 8-byte values");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  return bits;
}
template <typename T>
inline T from_bits(uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
}  // namespace cleave_emu

// Shared memory of a kernel or device function: `CLEAVE_SHARED(float, tile, [16][65]);`.
#define CLEAVE_SHARED(type, name, dims)                                                       \
  alignas(16) static type name dims;                                                          \
  [[maybe_unused]] static const bool name##_cleave_emu_registered =                           \
      ::cleave_emu::register_shared(&name, sizeof(name))

#define threadIdx (::cleave_emu::ctx().thread_idx)
#define blockIdx (::cleave_emu::ctx().block_idx)
#define blockDim (::cleave_emu::ctx().block_dim)
#define gridDim (::cleave_emu::ctx().grid_dim)
constexpr int warpSize = 32;

// ---- barriers, shuffles, votes ----
// The empty asm with a memory clobber keeps the compiler from moving shared-memory accesses
// across a barrier (other threads run while this one is parked inside it).
#define CLEAVE_EMU_FENCE() asm volatile("" ::: "memory")
inline void __syncthreads() {
  CLEAVE_EMU_FENCE();
  ::cleave_emu::block_barrier();
  CLEAVE_EMU_FENCE();
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  CLEAVE_EMU_FENCE();
  ::cleave_emu::warp_barrier(mask);
  CLEAVE_EMU_FENCE();
}
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
// A load that bypasses L1 (what a block reads of other blocks' results in the same launch).
template <typename T>
inline T __ldcg(const T* p) { return *p; }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

template <typename T>
inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = 32) {
  const int lane = ::cleave_emu::ctx().lane;
  const int src = (lane & ~(width - 1)) + (src_lane & (width - 1));
  return ::cleave_emu::from_bits<T>(
      ::cleave_emu::warp_exchange(mask, ::cleave_emu::to_bits(var), src));
}
template <typename T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  const int lane = ::cleave_emu::ctx().lane;
  const int src = (lane & (width - 1)) < (int)delta ? lane : lane - (int)delta;
  return ::cleave_emu::from_bits<T>(
      ::cleave_emu::warp_exchange(mask, ::cleave_emu::to_bits(var), src));
}
template <typename T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  const int lane = ::cleave_emu::ctx().lane;
  const int src = (lane & (width - 1)) + (int)delta >= width ? lane : lane + (int)delta;
  return ::cleave_emu::from_bits<T>(
      ::cleave_emu::warp_exchange(mask, ::cleave_emu::to_bits(var), src));
}
template <typename T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32) {
  const int lane = ::cleave_emu::ctx().lane;
  const int src = (lane ^ lane_mask) >= ((lane & ~(width - 1)) + width) ? lane : lane ^ lane_mask;
  return ::cleave_emu::from_bits<T>(
      ::cleave_emu::warp_exchange(mask, ::cleave_emu::to_bits(var), src));
}
inline unsigned __ballot_sync(unsigned mask, int pred) { return ::cleave_emu::warp_ballot(mask, pred); }
inline int __any_sync(unsigned mask, int pred) { return ::cleave_emu::warp_ballot(mask, pred) != 0; }
inline int __all_sync(unsigned mask, int pred) { return ::cleave_emu::warp_ballot(mask, pred) == mask; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }

// ---- atomics (real atomics, so they also hold when threads run on OS threads) ----
template <typename T>
inline T cleave_emu_atomic_add_float(T* address, T val) {
  using U = typename std::conditional<sizeof(T) == 4, uint32_t, uint64_t>::type;
  U* p = reinterpret_cast<U*>(address);
  U old = __atomic_load_n(p, __ATOMIC_RELAXED);
  for (;;) {
    T f;
    std::memcpy(&f, &old, sizeof f);
    const T sum = f + val;
    U next;
    std::memcpy(&next, &sum, sizeof next);
    if (__atomic_compare_exchange_n(p, &old, next, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) return f;
  }
}
inline float atomicAdd(float* a, float v) { return cleave_emu_atomic_add_float(a, v); }
inline double atomicAdd(double* a, double v) { return cleave_emu_atomic_add_float(a, v); }
inline int atomicAdd(int* a, int v) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicAdd(unsigned* a, unsigned v) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); }
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
  return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);
}
inline int atomicSub(int* a, int v) { return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicSub(unsigned* a, unsigned v) { return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST); }
template <typename T>
inline T cleave_emu_atomic_minmax(T* a, T v, bool is_max) {
  T old = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (is_max ? v > old : v < old) {
    if (__atomic_compare_exchange_n(a, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) break;
  }
  return old;
}
inline int atomicMin(int* a, int v) { return cleave_emu_atomic_minmax(a, v, false); }
inline int atomicMax(int* a, int v) { return cleave_emu_atomic_minmax(a, v, true); }
inline unsigned atomicMin(unsigned* a, unsigned v) { return cleave_emu_atomic_minmax(a, v, false); }
inline unsigned atomicMax(unsigned* a, unsigned v) { return cleave_emu_atomic_minmax(a, v, true); }
inline long long atomicMin(long long* a, long long v) { return cleave_emu_atomic_minmax(a, v, false); }
inline long long atomicMax(long long* a, long long v) { return cleave_emu_atomic_minmax(a, v, true); }
template <typename T>
inline T cleave_emu_atomic_cas(T* a, T compare, T val) {
  __atomic_compare_exchange_n(a, &compare, val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return compare;  // the old value either way
}
inline int atomicCAS(int* a, int c, int v) { return cleave_emu_atomic_cas(a, c, v); }
inline unsigned atomicCAS(unsigned* a, unsigned c, unsigned v) { return cleave_emu_atomic_cas(a, c, v); }
inline unsigned long long atomicCAS(unsigned long long* a, unsigned long long c, unsigned long long v) {
  return cleave_emu_atomic_cas(a, c, v);
}
inline int atomicExch(int* a, int v) { return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicExch(unsigned* a, unsigned v) { return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST); }
inline float atomicExch(float* a, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits = __atomic_exchange_n(reinterpret_cast<uint32_t*>(a), bits, __ATOMIC_SEQ_CST);
  float old;
  std::memcpy(&old, &bits, 4);
  return old;
}

// ---- launching ----
namespace cleave_cuda {
// The emulated counterpart of kernel<<<grid, block>>>(args...): runs the whole grid before it
// returns (blocks one after another) and returns the launch's error, also left for
// cudaGetLastError. Pointer arguments must be NULL or point into emulated device memory.
template <typename... Params, typename... Args>
inline cudaError_t launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block,
                          Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "wrong number of kernel arguments");
  using Tuple = std::tuple<typename std::decay<Params>::type...>;
  ::cleave_emu::Bound<void (*)(Params...), Tuple> bound{kernel, Tuple(std::forward<Args>(args)...)};
  ::cleave_emu::PointerArg ptrs[sizeof...(Params) + 1];
  const int n = ::cleave_emu::collect_pointers(bound.args, ptrs,
                                               std::index_sequence_for<Params...>{});
  return ::cleave_emu::run_launch(name, grid, block,
                                  ::cleave_emu::Task{&decltype(bound)::run, &bound}, ptrs, n);
}
}  // namespace cleave_cuda

#endif
