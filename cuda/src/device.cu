// Device discovery for the CUDA backend: driver and runtime versions, device properties,
// and whether this library carries a kernel image for a device. cudart is linked
// statically; it opens libcuda (the driver) itself on first use.
#include <cstdio>
#include <cstring>
#include "common.cuh"

namespace {
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
  cleave_cuda::set_error(what, __FILE__, __LINE__, "%s [cuda error %d: %s]%s",
                         err == cudaErrorInsufficientDriver || (int)err == 35
                             ? "no usable NVIDIA driver was found"
                             : cudaGetErrorString(err),
                         (int)err, cudaGetErrorName(err), hint);
  return (int)err;
}

__global__ void probe_kernel(int* out) { *out = 1; }
}  // namespace

extern "C" {
int CLEAVE_CUDA_FN(is_real)(void) { return CLEAVE_CUDA_BUILD_KIND; }
int CLEAVE_CUDA_FN(runtime_version)(void) { return CUDART_VERSION; }

int CLEAVE_CUDA_FN(driver_version)(int* version) {
  int v = 0;
  cudaError_t err = cudaDriverGetVersion(&v);
  if (version) *version = v;
  if (err != cudaSuccess) return fail("cudaDriverGetVersion", err);
  if (v == 0) {
    cleave_cuda::set_error("cudaDriverGetVersion", __FILE__, __LINE__,
                           "no NVIDIA driver was found (libcuda.so.1 could not be loaded): install "
                           "the NVIDIA driver, R580 or newer");
    return 35;
  }
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_FN(device_count)(int* count) {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (count) *count = (err == cudaSuccess) ? n : 0;
  if (err != cudaSuccess) return fail("cudaGetDeviceCount", err);
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_FN(device_info)(int index, char* name, int name_len, int* major, int* minor,
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
  return cleave_cuda::ok();
}
}
