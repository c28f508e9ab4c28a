// Device discovery for the CUDA backend: driver and runtime versions, device properties, the
// architectures this library carries code for, and a test launch. Nothing here creates a CUDA
// context except test_launch (and set_device, in runtime.cu), so probing every GPU of a box
// leaves no memory held on them and does not block exclusive-process GPUs for other processes.
// Which GPU to use is decided in Java (dev.cleave.nn.CudaProbe) from these facts. cudart is
// linked statically; it opens libcuda (the driver) itself on first use.
#include <cstdio>
#include <cstring>
#include "common.cuh"

// The architectures compiled in, set by cuda/CMakeLists.txt from its CUDA_ARCHITECTURES:
// SASS (cubins) for these compute capabilities (major * 10 + minor) and PTX for those.
#ifdef CLEAVE_CUDA_EMU
#define CLEAVE_CUDA_SASS_ARCHS 90  // the emulated device (compute capability 9.0)
#define CLEAVE_CUDA_PTX_ARCHS 0
#else
#include "cleave_cuda_archs.h"
#endif
#if !defined(CLEAVE_CUDA_SASS_ARCHS) || !defined(CLEAVE_CUDA_PTX_ARCHS)
#error "CLEAVE_CUDA_SASS_ARCHS and CLEAVE_CUDA_PTX_ARCHS must be defined (cuda/CMakeLists.txt does)"
#endif

namespace {
const int kSass[] = {CLEAVE_CUDA_SASS_ARCHS};
const int kPtx[] = {CLEAVE_CUDA_PTX_ARCHS};

int fail(const char* what, cudaError_t err) {
  return cleave_cuda::cuda_error(what, __FILE__, __LINE__, what, err);
}

__global__ void probe_kernel(int* out) { *out = 0x600D; }
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
                           "no NVIDIA driver was found (libcuda.so.1 could not be loaded)");
    return (int)cudaErrorInsufficientDriver;
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

int CLEAVE_CUDA_FN(kernel_archs)(int* sass, int* n_sass, int* ptx, int* n_ptx, int max) {
  int ns = 0, np = 0;
  for (int a : kSass)
    if (a > 0 && ns < max) sass[ns++] = a;
  for (int a : kPtx)
    if (a > 0 && np < max) ptx[np++] = a;
  if (n_sass) *n_sass = ns;
  if (n_ptx) *n_ptx = np;
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
    // From the compute capability alone (no context): SASS for sm_XY runs on X.Z with Z >= Y;
    // PTX for compute_XY is compiled by the driver for any X.Z >= X.Y.
    const int cc = prop.major * 10 + prop.minor;
    int image = 0;
    for (int a : kSass)
      if (a > 0 && a / 10 == prop.major && a % 10 <= prop.minor) image = 1;
    if (!image)
      for (int a : kPtx)
        if (a > 0 && a <= cc) image = 2;
    *has_kernel_image = image;
  }
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_FN(device_attrs)(int index, int* compute_mode, int* sm_count, int* fp64_ratio) {
  int v = 0;
  cudaError_t err = cudaDeviceGetAttribute(&v, cudaDevAttrComputeMode, index);
  if (err != cudaSuccess) return fail("cudaDeviceGetAttribute", err);
  if (compute_mode) *compute_mode = v;
  err = cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, index);
  if (err != cudaSuccess) return fail("cudaDeviceGetAttribute", err);
  if (sm_count) *sm_count = v;
  err = cudaDeviceGetAttribute(&v, cudaDevAttrSingleToDoublePrecisionPerfRatio, index);
  if (err != cudaSuccess) return fail("cudaDeviceGetAttribute", err);
  if (fp64_ratio) *fp64_ratio = v;
  return cleave_cuda::ok();
}

int CLEAVE_CUDA_FN(test_launch)(void) {
  const char* op = "test_launch";
  CLEAVE_CUDA_ENTER(op);
  void* mem = nullptr;
  CLEAVE_RETURN_IF(cleave_cuda::scratch(op, sizeof(int), &mem));
  int* flag = static_cast<int*>(mem);
  CLEAVE_CUDA_TRY(op, cudaMemset(flag, 0, sizeof(int)));
  // A real launch: for a GPU without SASS here this is where the driver compiles the PTX (and
  // fails with cudaErrorUnsupportedPtxVersion when the PTX is newer than the driver).
  cudaGetLastError();
  cleave_cuda::launch("probe_kernel", probe_kernel, dim3(1), dim3(32), flag);
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  if (err != cudaSuccess) return cleave_cuda::cuda_error(op, __FILE__, __LINE__, "launching probe_kernel", err);
  int h = 0;
  CLEAVE_CUDA_TRY(op, cudaMemcpy(&h, flag, sizeof h, cudaMemcpyDeviceToHost));
  CLEAVE_REQUIRE(op, h == 0x600D, "probe_kernel ran but wrote %#x instead of 0x600d", h);
  return cleave_cuda::ok();
}
}
