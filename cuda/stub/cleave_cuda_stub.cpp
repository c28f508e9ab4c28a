// Stub CUDA library, built when nvcc is absent: the same C ABI as cuda/src (every entry of
// cuda/include/cleave_cuda_ops.h; cuda/CMakeLists.txt links a check program against it), every call
// reporting that this build has no CUDA support. The infrastructure is written out below; the
// kernels are generated from the op list.
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
int CLEAVE_CUDA_FN(kernel_archs)(int*, int* n_sass, int*, int* n_ptx, int) {
  if (n_sass) *n_sass = 0;
  if (n_ptx) *n_ptx = 0;
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(device_attrs)(int, int*, int*, int*) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(set_device)(int) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(test_launch)(void) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(set_sync_check)(int) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(sync_check)(void) { return 0; }
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
int CLEAVE_CUDA_FN(host_alloc)(void** ptr, int64_t) {
  if (ptr) *ptr = NULL;
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(host_free)(void* ptr) { return ptr ? CLEAVE_DEVICE_ERROR : 0; }
int CLEAVE_CUDA_FN(memcpy_htod_async)(void*, const void*, int64_t) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(event_create)(void** event) {
  if (event) *event = NULL;
  return CLEAVE_DEVICE_ERROR;
}
int CLEAVE_CUDA_FN(event_record)(void*) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(event_synchronize)(void*) { return CLEAVE_DEVICE_ERROR; }
int CLEAVE_CUDA_FN(event_destroy)(void* event) { return event ? CLEAVE_DEVICE_ERROR : 0; }

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
int CLEAVE_CUDA_FN(spectral_op_free)(cleave_cuda_spectral_op* op) { return op ? CLEAVE_DEVICE_ERROR : 0; }

// Every kernel of the op list, failing with the reason.
#define CLEAVE_CUDA_OP(ret, name, params)
#define CLEAVE_CUDA_KERNEL_OP(ret, name, params) \
  ret CLEAVE_CUDA_KERNEL(name) params { return CLEAVE_DEVICE_ERROR; }
#include "cleave_cuda_ops.h"
#undef CLEAVE_CUDA_OP
#undef CLEAVE_CUDA_KERNEL_OP

static cleave_cuda_api g_table = {
#define CLEAVE_CUDA_OP(ret, name, params) &CLEAVE_CUDA_FN(name),
#define CLEAVE_CUDA_KERNEL_OP CLEAVE_CUDA_OP
#include "cleave_cuda_ops.h"
#undef CLEAVE_CUDA_OP
#undef CLEAVE_CUDA_KERNEL_OP
};
cleave_cuda_api* CLEAVE_CUDA_FN(table)(void) { return &g_table; }
}
