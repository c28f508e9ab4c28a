// The library's plumbing: the per-thread error message, device memory (malloc, free, memcpy,
// memset, synchronize), device choice and memory info, per-thread scratch memory, and the
// second pass of the two-pass reductions (sum_pairs).
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include "common.cuh"

namespace cleave_cuda {
namespace {
thread_local char g_error[1024] = "";

// Scratch memory of this host thread, freed when the thread ends.
struct Scratch {
  void* ptr = nullptr;
  size_t bytes = 0;
  int device = -1;
  ~Scratch() {
    // When the thread ends (at process exit the runtime may be gone): the result is not
    // checked, and the thread's last error dies with the thread.
    if (ptr) cudaFree(ptr);
  }
};
thread_local Scratch g_scratch;
thread_local Scratch g_counter;  // launch_counter's


std::atomic<int> g_device{-1};     // the process's device (set_device), -1 = the runtime's default
thread_local int t_device = -1;    // the device this host thread was bound to by enter()
std::atomic<int> g_sync{-1};       // synchronous checking: -1 = not yet read from CLEAVE_CUDA_SYNC

// Occupancy per kernel, device and block size (a few dozen kernels: a small table).
struct Occupancy {
  const void* kernel;
  int device, threads, blocks;
};
std::mutex g_occ_mu;
Occupancy g_occ[256];
int g_occ_n = 0;
}  // namespace

static const char* source_path(const char* file);

bool is_sticky(cudaError_t err) {
  switch (err) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorECCUncorrectable:
      return true;
    default:
      return false;
  }
}

int enter(const char* op) {
  const int d = g_device.load(std::memory_order_relaxed);
  if (d >= 0 && t_device != d) {
    const cudaError_t err = cudaSetDevice(d);
    if (err != cudaSuccess) return cuda_error(op, __FILE__, __LINE__, "cudaSetDevice (binding this host thread)", err);
    t_device = d;
  }
  return 0;
}

bool sync_check() {
  int s = g_sync.load(std::memory_order_relaxed);
  if (s < 0) {
    const char* env = std::getenv("CLEAVE_CUDA_SYNC");
    s = env && env[0] && std::strcmp(env, "0") != 0 ? 1 : 0;
    int expected = -1;
    if (!g_sync.compare_exchange_strong(expected, s)) s = expected;
  }
  return s == 1;
}

int after_launch(const char* op, const char* file, int line, const char* kernel, cudaError_t err) {
  char what[256];
  if (err != cudaSuccess) {
    std::snprintf(what, sizeof what, "launching %s", kernel);
    return cuda_error(op, file, line, what, err);
  }
  if (!sync_check()) return 0;
  err = cudaDeviceSynchronize();
  if (err == cudaSuccess) return 0;
  // The previous launch was checked the same way, so this fault is the kernel's own.
  std::snprintf(g_error, sizeof g_error,
                "%s: kernel %s faulted: %s [%s, cuda error %d]%s (%s:%d)", op, kernel,
                cudaGetErrorString(err), cudaGetErrorName(err), (int)err,
                is_sticky(err) ? "; the CUDA context is now unusable: restart the process" : "",
                source_path(file), line);
  return (int)err;
}

const char* last_error() { return g_error; }

// The source path from "cuda/" on (cuda/src/x.cu, cuda/emu/selftest.cpp).
static const char* source_path(const char* file) {
  return cleave_shared::source_path(file, "cuda/src/", "cuda/emu/");
}

CLEAVE_DEFINE_ERROR_RECORDERS(g_error, source_path)

int cuda_error(const char* op, const char* file, int line, const char* what, cudaError_t err) {
  if (is_sticky(err)) {
    // Kernels run asynchronously: a sticky fault surfaces in whichever call comes next.
    std::snprintf(g_error, sizeof g_error,
                  "%s: %s failed: an earlier kernel faulted; the CUDA context is unusable (%s "
                  "[%s, cuda error %d]); restart the process, and set CLEAVE_CUDA_SYNC=1 to name "
                  "the kernel that faulted (%s:%d)",
                  op, what, cudaGetErrorString(err), cudaGetErrorName(err), (int)err,
                  source_path(file), line);
  } else {
    std::snprintf(g_error, sizeof g_error, "%s: %s failed: %s [%s, cuda error %d] (%s:%d)",
                  op, what, cudaGetErrorString(err), cudaGetErrorName(err), (int)err,
                  source_path(file), line);
    cudaGetLastError();  // not sticky: clear it, so no later call reports it as its own
  }
  return err == cudaSuccess ? CLEAVE_INTERNAL_ERROR : (int)err;
}

int scratch(const char* op, size_t bytes, void** out) {
  int device = 0;
  CLEAVE_CUDA_TRY(op, cudaGetDevice(&device));
  if (g_scratch.ptr && (g_scratch.bytes < bytes || g_scratch.device != device)) {
    void* old = g_scratch.ptr;
    g_scratch.ptr = nullptr;
    g_scratch = Scratch{};
    CLEAVE_CUDA_TRY(op, cudaFree(old));
  }
  if (!g_scratch.ptr) {
    const size_t want = bytes < 65536 ? 65536 : bytes;
    void* p = nullptr;
    CLEAVE_CUDA_TRY(op, cudaMalloc(&p, want));
    g_scratch.ptr = p;
    g_scratch.bytes = want;
    g_scratch.device = device;
  }
  *out = g_scratch.ptr;
  return 0;
}

int launch_counter(const char* op, unsigned** out) {
  int device = 0;
  CLEAVE_CUDA_TRY(op, cudaGetDevice(&device));
  if (g_counter.ptr && g_counter.device != device) {
    void* old = g_counter.ptr;
    g_counter = Scratch{};
    CLEAVE_CUDA_TRY(op, cudaFree(old));
  }
  if (!g_counter.ptr) {
    void* p = nullptr;
    CLEAVE_CUDA_TRY(op, cudaMalloc(&p, 256));
    const cudaError_t err = cudaMemset(p, 0, 256);
    if (err != cudaSuccess) {
      cudaFree(p);
      return cuda_error(op, __FILE__, __LINE__, "cudaMemset", err);
    }
    g_counter.ptr = p;
    g_counter.bytes = 256;
    g_counter.device = device;
  }
  *out = static_cast<unsigned*>(g_counter.ptr);
  return 0;
}

int sm_count() {
  // Not cached: cudaDeviceGetAttribute is a host-side lookup, and the emulator's SM count can change.
  int device = 0, n = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || n <= 0) {
    cudaGetLastError();  // a failed query leaves no stale error; the next launch reports the real one
    return 16;
  }
  return n;
}

int blocks_per_sm(const void* kernel, int threads) {
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    cudaGetLastError();
    return 1;
  }
  std::lock_guard<std::mutex> lock(g_occ_mu);
  for (int i = 0; i < g_occ_n; ++i)
    if (g_occ[i].kernel == kernel && g_occ[i].device == device && g_occ[i].threads == threads)
      return g_occ[i].blocks;
  int blocks = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, threads, 0) != cudaSuccess) {
    cudaGetLastError();  // the launch itself will report what is wrong
    blocks = 1;
  }
  if (blocks < 1) blocks = 1;
  if (g_occ_n < (int)(sizeof g_occ / sizeof g_occ[0])) g_occ[g_occ_n++] = Occupancy{kernel, device, threads, blocks};
  return blocks;
}

namespace {
constexpr int kSumThreads = 256;

__global__ void __launch_bounds__(kSumThreads)
    sum_pairs_kernel(const double2* partials, int count, double2* out) {
  double a = 0.0, b = 0.0;
  for (int i = threadIdx.x; i < count; i += kSumThreads) {
    a += partials[i].x;
    b += partials[i].y;
  }
  const double2 s = block_sum2<kSumThreads>(a, b);
  if (threadIdx.x == 0) *out = s;
}
}  // namespace

int sum_pairs(const char* op, const double2* partials, int count, double2* out) {
  CLEAVE_LAUNCH(op, sum_pairs_kernel, dim3(1), dim3(kSumThreads), partials, count, out);
  return 0;
}
}  // namespace cleave_cuda

using cleave_cuda::ok;

namespace {
int copy(const char* op, void* dst, const void* src, int64_t bytes, cudaMemcpyKind kind) {
  CLEAVE_CUDA_ENTER(op);
  CLEAVE_REQUIRE(op, bytes >= 0, "bytes must be >= 0, got %lld", (long long)bytes);
  if (bytes == 0) return ok();
  CLEAVE_REQUIRE(op, dst && src, "dst and src must not be null");
  CLEAVE_CUDA_TRY(op, cudaMemcpy(dst, src, (size_t)bytes, kind));
  return ok();
}
}  // namespace

extern "C" {
const char* CLEAVE_CUDA_FN(last_error)(void) { return cleave_cuda::last_error(); }

int CLEAVE_CUDA_FN(set_device)(int index) {
  CLEAVE_REQUIRE("set_device", index >= 0, "the device index must be >= 0, got %d", index);
  CLEAVE_CUDA_TRY("set_device", cudaSetDevice(index));
  // cudaSetDevice makes the device's primary context current; cudaFree(0) forces its creation,
  // so a device that cannot give us one (exclusive-process and busy, out of memory) fails here.
  CLEAVE_CUDA_TRY("set_device", cudaFree(nullptr));
  cleave_cuda::g_device.store(index);
  cleave_cuda::t_device = index;
  return ok();
}

int CLEAVE_CUDA_FN(set_sync_check)(int on) {
  cleave_cuda::sync_check();  // reads CLEAVE_CUDA_SYNC first, so this call wins over it
  cleave_cuda::g_sync.store(on ? 1 : 0);
  return ok();
}

int CLEAVE_CUDA_FN(sync_check)(void) { return cleave_cuda::sync_check() ? 1 : 0; }

int CLEAVE_CUDA_FN(mem_info)(int64_t* free_bytes, int64_t* total_bytes) {
  CLEAVE_CUDA_ENTER("mem_info");
  size_t f = 0, t = 0;
  CLEAVE_CUDA_TRY("mem_info", cudaMemGetInfo(&f, &t));
  if (free_bytes) *free_bytes = (int64_t)f;
  if (total_bytes) *total_bytes = (int64_t)t;
  return ok();
}

int CLEAVE_CUDA_FN(malloc)(void** ptr, int64_t bytes) {
  CLEAVE_REQUIRE("malloc", ptr, "ptr must not be null");
  *ptr = nullptr;
  CLEAVE_CUDA_ENTER("malloc");
  *ptr = nullptr;
  CLEAVE_REQUIRE("malloc", bytes >= 0, "bytes must be >= 0, got %lld", (long long)bytes);
  if (bytes == 0) return ok();
  const cudaError_t err = cudaMalloc(ptr, (size_t)bytes);
  if (err != cudaSuccess) {
    *ptr = nullptr;
    if (err != cudaErrorMemoryAllocation) return cleave_cuda::cuda_error("malloc", __FILE__, __LINE__, "cudaMalloc", err);
    cudaGetLastError();  // an allocation failure is not sticky: clear it
    size_t f = 0, t = 0;
    if (cudaMemGetInfo(&f, &t) != cudaSuccess) cudaGetLastError();  // sizes stay 0 in the message
    return cleave_cuda::fail(CLEAVE_DEVICE_ERROR, "malloc", __FILE__, __LINE__,
                                  "could not allocate %lld bytes of device memory (%zu of %zu bytes "
                                  "free): %s [%s]",
                                  (long long)bytes, f, t, cudaGetErrorString(err),
                                  cudaGetErrorName(err));
  }
  return ok();
}

int CLEAVE_CUDA_FN(free)(void* ptr) {
  if (!ptr) return ok();
  CLEAVE_CUDA_ENTER("free");
  const cudaError_t err = cudaFree(ptr);
  // After a sticky fault the context, and all its memory, is gone: freeing succeeds trivially,
  // so cleaning up after the first error does not bury it under errors of its own.
  if (err != cudaSuccess && !cleave_cuda::is_sticky(err))
    return cleave_cuda::cuda_error("free", __FILE__, __LINE__, "cudaFree", err);
  return ok();
}

int CLEAVE_CUDA_FN(memcpy_htod)(void* dst, const void* src, int64_t bytes) {
  return copy("memcpy_htod", dst, src, bytes, cudaMemcpyHostToDevice);
}

int CLEAVE_CUDA_FN(memcpy_dtoh)(void* dst, const void* src, int64_t bytes) {
  return copy("memcpy_dtoh", dst, src, bytes, cudaMemcpyDeviceToHost);
}

int CLEAVE_CUDA_FN(memcpy_dtod)(void* dst, const void* src, int64_t bytes) {
  return copy("memcpy_dtod", dst, src, bytes, cudaMemcpyDeviceToDevice);
}

int CLEAVE_CUDA_FN(memset)(void* ptr, int value, int64_t bytes) {
  CLEAVE_CUDA_ENTER("memset");
  CLEAVE_REQUIRE("memset", bytes >= 0, "bytes must be >= 0, got %lld", (long long)bytes);
  if (bytes == 0) return ok();
  CLEAVE_REQUIRE("memset", ptr, "ptr must not be null");
  CLEAVE_CUDA_TRY("memset", cudaMemset(ptr, value, (size_t)bytes));
  return ok();
}

int CLEAVE_CUDA_FN(synchronize)(void) {
  CLEAVE_CUDA_ENTER("synchronize");
  CLEAVE_CUDA_TRY("synchronize", cudaDeviceSynchronize());
  return ok();
}

int CLEAVE_CUDA_FN(host_alloc)(void** ptr, int64_t bytes) {
  CLEAVE_REQUIRE("host_alloc", ptr, "ptr must not be null");
  *ptr = nullptr;
  CLEAVE_CUDA_ENTER("host_alloc");
  CLEAVE_REQUIRE("host_alloc", bytes >= 0, "bytes must be >= 0, got %lld", (long long)bytes);
  if (bytes == 0) return ok();
  CLEAVE_CUDA_TRY("host_alloc", cudaMallocHost(ptr, (size_t)bytes));
  return ok();
}

int CLEAVE_CUDA_FN(host_free)(void* ptr) {
  if (!ptr) return ok();
  CLEAVE_CUDA_ENTER("host_free");
  const cudaError_t err = cudaFreeHost(ptr);
  if (err != cudaSuccess && !cleave_cuda::is_sticky(err))
    return cleave_cuda::cuda_error("host_free", __FILE__, __LINE__, "cudaFreeHost", err);
  return ok();
}

int CLEAVE_CUDA_FN(memcpy_htod_async)(void* dst, const void* src, int64_t bytes) {
  const char* op = "memcpy_htod_async";
  CLEAVE_CUDA_ENTER(op);
  CLEAVE_REQUIRE(op, bytes >= 0, "bytes must be >= 0, got %lld", (long long)bytes);
  if (bytes == 0) return ok();
  CLEAVE_REQUIRE(op, dst && src, "dst and src must not be null");
  CLEAVE_CUDA_TRY(op, cudaMemcpyAsync(dst, src, (size_t)bytes, cudaMemcpyHostToDevice, 0));
  return ok();
}

int CLEAVE_CUDA_FN(event_create)(void** event) {
  CLEAVE_REQUIRE("event_create", event, "event must not be null");
  *event = nullptr;
  CLEAVE_CUDA_ENTER("event_create");
  cudaEvent_t e = nullptr;
  CLEAVE_CUDA_TRY("event_create", cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  *event = (void*)e;
  return ok();
}

int CLEAVE_CUDA_FN(event_record)(void* event) {
  CLEAVE_REQUIRE("event_record", event, "event must not be null");
  CLEAVE_CUDA_ENTER("event_record");
  CLEAVE_CUDA_TRY("event_record", cudaEventRecord((cudaEvent_t)event, 0));
  return ok();
}

int CLEAVE_CUDA_FN(event_synchronize)(void* event) {
  CLEAVE_REQUIRE("event_synchronize", event, "event must not be null");
  CLEAVE_CUDA_ENTER("event_synchronize");
  CLEAVE_CUDA_TRY("event_synchronize", cudaEventSynchronize((cudaEvent_t)event));
  return ok();
}

int CLEAVE_CUDA_FN(event_destroy)(void* event) {
  if (!event) return ok();
  CLEAVE_CUDA_ENTER("event_destroy");
  const cudaError_t err = cudaEventDestroy((cudaEvent_t)event);
  if (err != cudaSuccess && !cleave_cuda::is_sticky(err))
    return cleave_cuda::cuda_error("event_destroy", __FILE__, __LINE__, "cudaEventDestroy", err);
  return ok();
}
}

// This library's table of every function in the op list (cleave_cuda_ops.h), what Java binds.
static cleave_cuda_api g_table = {
#define CLEAVE_CUDA_OP(ret, name, params) &CLEAVE_CUDA_FN(name),
#define CLEAVE_CUDA_KERNEL_OP CLEAVE_CUDA_OP
#include "cleave_cuda_ops.h"
#undef CLEAVE_CUDA_OP
#undef CLEAVE_CUDA_KERNEL_OP
};
extern "C" cleave_cuda_api* CLEAVE_CUDA_FN(table)(void) { return &g_table; }
