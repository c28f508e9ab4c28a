// The library's plumbing: the per-thread error message, device memory (malloc, free, memcpy,
// memset, synchronize), device choice and memory info, per-thread scratch memory, and the
// second pass of the two-pass reductions (sum_pairs).
#include <climits>
#include <cstdio>
#include <cstring>
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
    if (ptr) cudaFree(ptr);  // at process exit the runtime may be gone: the error is ignored
  }
};
thread_local Scratch g_scratch;

constexpr int kMaxDevices = 64;
int g_sm_count[kMaxDevices] = {};  // 0 = not yet queried
}  // namespace

const char* last_error() { return g_error; }

int ok() {
  g_error[0] = '\0';
  return 0;
}

// The source path from "cuda/" on (cuda/src/x.cu, cuda/emu/selftest.cpp).
static const char* source_path(const char* file) {
  const char* p = std::strstr(file, "cuda/src/");
  if (!p) p = std::strstr(file, "cuda/emu/");
  return p ? p : file;
}

static int record(int status, const char* op, const char* file, int line, const char* fmt, va_list ap) {
  int n = std::snprintf(g_error, sizeof g_error, "%s: ", op);
  if (n > 0 && n < (int)sizeof g_error) n += std::vsnprintf(g_error + n, sizeof g_error - n, fmt, ap);
  if (n > 0 && n < (int)sizeof g_error)
    std::snprintf(g_error + n, sizeof g_error - n, " (%s:%d)", source_path(file), line);
  return status;
}

int fail(int status, const char* op, const char* file, int line, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(status, op, file, line, fmt, ap);
  va_end(ap);
  return status;
}

int set_error(const char* op, const char* file, int line, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(CLEAVE_INTERNAL_ERROR, op, file, line, fmt, ap);
  va_end(ap);
  return CLEAVE_INTERNAL_ERROR;
}

int cuda_error(const char* op, const char* file, int line, const char* what, cudaError_t err) {
  std::snprintf(g_error, sizeof g_error, "%s: %s failed: %s [%s, cuda error %d] (%s:%d)",
                op, what, cudaGetErrorString(err), cudaGetErrorName(err), (int)err,
                source_path(file), line);
  return CLEAVE_DEVICE_ERROR;
}

int scratch(const char* op, size_t bytes, void** out) {
  int device = 0;
  CLEAVE_CUDA_TRY(op, cudaGetDevice(&device));
  if (g_scratch.ptr && (g_scratch.bytes < bytes || g_scratch.device != device)) {
    cudaFree(g_scratch.ptr);
    g_scratch = Scratch{};
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

int sm_count() {
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kMaxDevices) return 16;
  if (g_sm_count[device] == 0) {
    int n = 0;
    if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || n <= 0)
      n = 16;
    g_sm_count[device] = n;
  }
  return g_sm_count[device];
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
  CLEAVE_CUDA_TRY("set_device", cudaSetDevice(index));
  return ok();
}

int CLEAVE_CUDA_FN(mem_info)(int64_t* free_bytes, int64_t* total_bytes) {
  size_t f = 0, t = 0;
  CLEAVE_CUDA_TRY("mem_info", cudaMemGetInfo(&f, &t));
  if (free_bytes) *free_bytes = (int64_t)f;
  if (total_bytes) *total_bytes = (int64_t)t;
  return ok();
}

int CLEAVE_CUDA_FN(malloc)(void** ptr, int64_t bytes) {
  CLEAVE_REQUIRE("malloc", ptr, "ptr must not be null");
  *ptr = nullptr;
  CLEAVE_REQUIRE("malloc", bytes >= 0, "bytes must be >= 0, got %lld", (long long)bytes);
  if (bytes == 0) return ok();
  const cudaError_t err = cudaMalloc(ptr, (size_t)bytes);
  if (err != cudaSuccess) {
    *ptr = nullptr;
    cudaGetLastError();  // an allocation failure is not sticky: clear it
    size_t f = 0, t = 0;
    cudaMemGetInfo(&f, &t);
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
  CLEAVE_CUDA_TRY("free", cudaFree(ptr));
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
  CLEAVE_REQUIRE("memset", bytes >= 0, "bytes must be >= 0, got %lld", (long long)bytes);
  if (bytes == 0) return ok();
  CLEAVE_REQUIRE("memset", ptr, "ptr must not be null");
  CLEAVE_CUDA_TRY("memset", cudaMemset(ptr, value, (size_t)bytes));
  return ok();
}

int CLEAVE_CUDA_FN(synchronize)(void) {
  CLEAVE_CUDA_TRY("synchronize", cudaDeviceSynchronize());
  return ok();
}
}
