// Stub CUDA library, built when nvcc is absent: the same C ABI as cuda/src, every call
// reports that this build has no CUDA support.
#include "cleave_cuda.h"

static const char* kNoCuda =
    "this libcleave_cuda was built without CUDA (nvcc was not on PATH at build time); "
    "install the CUDA toolkit (nvcc) and rebuild with 'mvn package' to get GPU kernels";

extern "C" {
const char* cleave_cuda_last_error(void) { return kNoCuda; }
int cleave_cuda_is_real(void) { return 0; }
int cleave_cuda_runtime_version(void) { return 0; }
int cleave_cuda_driver_version(int* version) { if (version) *version = 0; return 1; }
int cleave_cuda_device_count(int* count) { if (count) *count = 0; return 1; }
int cleave_cuda_device_info(int, char* name, int name_len, int*, int*, long long*, int*) {
  if (name && name_len > 0) name[0] = '\0';
  return 1;
}
}
