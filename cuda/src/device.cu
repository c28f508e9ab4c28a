// Device discovery for the CUDA backend: driver and runtime versions, device properties,
// and whether this library carries a kernel image for a device. cudart is linked
// statically; it opens libcuda (the driver) itself on first use.
#include <cstdio>
#include <cstring>
#include <cuda_runtime.h>
#include "cleave_cuda.h"

namespace {
thread_local char g_error[512] = "";

int fail(const char* what, cudaError_t err) {
  const char* hint = "";
  switch (err) {
    case cudaErrorInsufficientDriver:
      hint = " (the NVIDIA driver is older than this CUDA build needs: install driver R580 or newer)";
      break;
    case cudaErrorNoDevice:
      hint = " (the driver is installed but sees no GPU)";
      break;
    case cudaErrorNoKernelImageForDevice:
      hint = " (this library has kernels for compute capability 8.0 and 9.0+ only)";
      break;
    default:
      break;
  }
  std::snprintf(g_error, sizeof g_error, "%s: %s [cuda error %d: %s]%s", what,
                err == cudaErrorInsufficientDriver || err == 35
                    ? "no usable NVIDIA driver was found"
                    : cudaGetErrorString(err),
                (int)err, cudaGetErrorName(err), hint);
  return (int)err;
}

__global__ void probe_kernel(int* out) { *out = 1; }
}  // namespace

extern "C" {
const char* cleave_cuda_last_error(void) { return g_error; }
int cleave_cuda_is_real(void) { return 1; }
int cleave_cuda_runtime_version(void) { return CUDART_VERSION; }

int cleave_cuda_driver_version(int* version) {
  int v = 0;
  cudaError_t err = cudaDriverGetVersion(&v);
  if (version) *version = v;
  if (err != cudaSuccess) return fail("cudaDriverGetVersion", err);
  if (v == 0) {
    std::snprintf(g_error, sizeof g_error,
                  "no NVIDIA driver was found (libcuda.so.1 could not be loaded): install the "
                  "NVIDIA driver, R580 or newer");
    return 35;
  }
  return 0;
}

int cleave_cuda_device_count(int* count) {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (count) *count = (err == cudaSuccess) ? n : 0;
  if (err != cudaSuccess) return fail("cudaGetDeviceCount", err);
  return 0;
}

int cleave_cuda_device_info(int index, char* name, int name_len, int* major, int* minor,
                            long long* total_mem, int* has_kernel_image) {
  cudaDeviceProp prop;
  cudaError_t err = cudaGetDeviceProperties(&prop, index);
  if (err != cudaSuccess) return fail("cudaGetDeviceProperties", err);
  if (name && name_len > 0) {
    std::strncpy(name, prop.name, name_len - 1);
    name[name_len - 1] = '\0';
  }
  if (major) *major = prop.major;
  if (minor) *minor = prop.minor;
  if (total_mem) *total_mem = (long long)prop.totalGlobalMem;
  if (has_kernel_image) {
    cudaFuncAttributes attr;
    int prev = 0;
    cudaGetDevice(&prev);
    cudaSetDevice(index);
    *has_kernel_image = cudaFuncGetAttributes(&attr, probe_kernel) == cudaSuccess ? 1 : 0;
    cudaGetLastError();
    cudaSetDevice(prev);
  }
  return 0;
}
}
