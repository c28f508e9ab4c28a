// Stub CUDA library, built when nvcc is absent: the same C ABI as cuda/src (every function of
// cuda/include/cleave_cuda.h; cuda/CMakeLists.txt links a check program against it), every call
// reporting that this build has no CUDA support.
#include <stddef.h>
#include "cleave_cuda.h"

static const char* kNoCuda =
    "this libcleave_cuda was built without CUDA (nvcc was not on PATH at build time); "
    "install the CUDA toolkit (nvcc) and rebuild with 'mvn package' to get GPU kernels";

extern "C" {
const char* CLEAVE_CUDA_FN(last_error)(void) { return kNoCuda; }
int CLEAVE_CUDA_FN(is_real)(void) { return 0; }
int CLEAVE_CUDA_FN(runtime_version)(void) { return 0; }
int CLEAVE_CUDA_FN(driver_version)(int* version) {
  if (version) *version = 0;
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(device_count)(int* count) {
  if (count) *count = 0;
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(device_info)(int, char* name, int name_len, int*, int*, long long*, int*) {
  if (name && name_len > 0) name[0] = '\0';
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(set_device)(int) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(mem_info)(int64_t*, int64_t*) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(malloc)(void** ptr, int64_t) {
  if (ptr) *ptr = NULL;
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(free)(void*) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(memcpy_htod)(void*, const void*, int64_t) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(memcpy_dtoh)(void*, const void*, int64_t) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(memcpy_dtod)(void*, const void*, int64_t) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(memset)(void*, int, int64_t) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(synchronize)(void) { return CLEAVE_DEVICE_ERROR; }

int CLEAVE_CUDA_KERNEL(linear_forward)(const float*, const float*, const float*, float*, int, int,
                                       int, int) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_KERNEL(linear_backward)(const float*, const float*, const float*, float*, float*,
                                        float*, float*, int, int, int, int) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_KERNEL(softmax_xent)(const float*, const int32_t*, float*, int, int, float, double*,
                                     int32_t*) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_KERNEL(dropout_forward)(float*, float*, int64_t, float, uint64_t, uint64_t) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_KERNEL(dropout_backward)(float*, const float*, int64_t) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_KERNEL(weight_penalty)(const float*, float*, int64_t, float, float, double*) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_KERNEL(adam_update)(float*, const float*, float*, float*, const float*, int64_t, float,
                                    float, float, float, int64_t) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_KERNEL(enmeshment)(const float*, const int32_t*, const int32_t*, int, int, int, float,
                                   float*, double*) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(spectral_op_create)(int64_t, int64_t, const double*, cleave_cuda_spectral_op** out) {
  if (out) *out = NULL;
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(spectral_op_add_dense)(cleave_cuda_spectral_op*, int64_t, int64_t, int64_t, int64_t, const float*,
                                          int) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(spectral_op_add_csr)(cleave_cuda_spectral_op*, int64_t, int64_t, int64_t, int64_t, const int64_t*,
                                        const int32_t*, const float*) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(spectral_op_free)(cleave_cuda_spectral_op* op) { return op ? 1 : 0; }
int CLEAVE_CUDA_KERNEL(spectral_op_apply)(const cleave_cuda_spectral_op*, int, const double*, double*, int) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_KERNEL(block_gram)(int64_t, const double*, int64_t, int, const double*, int64_t, int, double*) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_KERNEL(block_sub_mul)(int64_t, const double*, int64_t, int, const double*, double*, int64_t, int) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_KERNEL(block_mul_square)(int64_t, double*, int64_t, int, const double*) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_KERNEL(block_residuals)(int64_t, const double*, const double*, int64_t, int, const double*, double*) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_KERNEL(block_chebyshev_step)(int64_t, double, double, double, const double*, const double*, double*) {
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_KERNEL(block_copy)(int64_t, const double*, int64_t, int, double*, int64_t, int, int) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_KERNEL(kmeans_assign)(const double*, int64_t, int, const double*, int, int32_t*, double*) { return CLEAVE_DEVICE_ERROR; }
}
