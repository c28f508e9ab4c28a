/* Cleave CUDA library: C ABI shared by the nvcc-built library (cuda/src) and the stub
 * (cuda/stub). Every function returns 0 on success or a nonzero status; the message of the
 * last failure on the calling thread is cleave_cuda_last_error(). Nothing here exits or
 * aborts the process. */
#ifndef CLEAVE_CUDA_H
#define CLEAVE_CUDA_H
#ifdef __cplusplus
extern "C" {
#endif

/* Message of the last failed call on this thread ("" if none). */
const char* cleave_cuda_last_error(void);
/* 1 when this library was built by nvcc, 0 for the stub. */
int cleave_cuda_is_real(void);
/* CUDA runtime version this library was built with (e.g. 13000), 0 for the stub. */
int cleave_cuda_runtime_version(void);
/* Writes the driver's CUDA version (e.g. 13000), 0 when no driver was found. */
int cleave_cuda_driver_version(int* version);
/* Writes the number of usable devices. Fails (with the reason in cleave_cuda_last_error)
 * when there is no driver, the driver is too old, or the library is the stub. */
int cleave_cuda_device_count(int* count);
/* Describes device `index`: name (into a buffer of name_len bytes), compute capability,
 * total memory in bytes, and whether this library holds a kernel image for it. */
int cleave_cuda_device_info(int index, char* name, int name_len, int* major, int* minor,
                            long long* total_mem, int* has_kernel_image);

#ifdef __cplusplus
}
#endif
#endif
