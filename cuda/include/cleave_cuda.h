/* Cleave CUDA library: the C ABI shared by the nvcc-built library (cuda/src, libcleave_cuda),
 * its stub (cuda/stub, built where nvcc is absent) and the CPU emulation of the same kernel
 * sources (cuda/emu, libcleave_cuda_emu, where every name below carries the prefix
 * cleave_cuda_emu_ instead of cleave_cuda_: see cleave_cuda_emu.h).
 *
 * Conventions, shared by every function:
 *  - Every function returns 0 on success or a nonzero cleave_status (cleave_status.h); the message of the last failure
 *    on the calling thread is last_error(), naming the op, what was wrong and the source line.
 *    Nothing here exits or aborts the process. Java validates arguments first; the checks here
 *    are a second line of defence.
 *  - Kernels take DEVICE pointers (from malloc below) for every array and HOST pointers for
 *    scalar results (double* loss_sum, int32_t* correct, double* value, double* c_out). Their
 *    arguments mirror the cpu ABI (native/include/cleave_cpu.h, cleave_modular.h) name for
 *    name and in the same order, so a backend calls both the same way. Matrices are row-major
 *    float32; a linear layer's weight is (out x in).
 *  - Everything runs on the process's device (set_device) and the legacy default stream, in
 *    call order. Kernels without a host result return once launched (launch errors are
 *    reported at once, faults during execution by the next call that synchronizes:
 *    synchronize(), a memcpy, or an op with a host result, as "an earlier kernel faulted; the
 *    CUDA context is unusable"; set_sync_check names the kernel instead). After such a fault
 *    every call fails except free and spectral_op_free, which succeed (the context's memory is
 *    gone with it). Ops with a host result
 *    (softmax_xent, weight_penalty, enmeshment) wait for their kernels and copy the result back.
 *  - Results do not depend on timing or on the GPU model: reductions are two-pass (per-block
 *    partials, then one block in a fixed order), with the number of partials chosen from the
 *    problem size alone, never from the device's SM count.
 *
 * Every function is written once, as an entry of the op list cleave_cuda_ops.h
 * (CLEAVE_CUDA_OP: infrastructure; CLEAVE_CUDA_KERNEL_OP: an op with a CPU counterpart), which
 * this header expands into the prototypes and the table struct that Java binds.
 * cuda/CMakeLists.txt links a check program against every library built from this header (real,
 * stub, emulated), so a function missing from any of them fails the build;
 * java/src/test/java/dev/cleave/cuda/CudaParityChecks.java reads the list and fails when an
 * entry has no Java binding or a kernel no parity test.
 */
#ifndef CLEAVE_CUDA_H
#define CLEAVE_CUDA_H
#include <stdint.h>
#include "cleave_status.h" /* native/include: the status codes every function returns */

#ifndef CLEAVE_CUDA_FN
#define CLEAVE_CUDA_FN(name) cleave_cuda_##name
#endif
#define CLEAVE_CUDA_KERNEL(name) CLEAVE_CUDA_FN(name)

#ifdef __cplusplus
extern "C" {
#endif
typedef struct cleave_cuda_spectral_op cleave_cuda_spectral_op;
/* Doubles per record of softmax_xent_record (as in native/include/cleave_cpu.h). */
#ifndef CLEAVE_XENT_RECORD
#define CLEAVE_XENT_RECORD 5
#endif

/* The prototypes, one per entry of the op list. */
#define CLEAVE_CUDA_OP(ret, name, params) ret CLEAVE_CUDA_FN(name) params;
#define CLEAVE_CUDA_KERNEL_OP(ret, name, params) ret CLEAVE_CUDA_KERNEL(name) params;
#include "cleave_cuda_ops.h"
#undef CLEAVE_CUDA_OP
#undef CLEAVE_CUDA_KERNEL_OP

/* The same functions as a table, one function pointer per entry named as the entry (without the
 * prefix): what Java binds, once for both libraries (dev.cleave.nativ.CudaApi). */
typedef struct cleave_cuda_api {
#define CLEAVE_CUDA_OP(ret, name, params) ret (*name) params;
#define CLEAVE_CUDA_KERNEL_OP CLEAVE_CUDA_OP
#include "cleave_cuda_ops.h"
#undef CLEAVE_CUDA_OP
#undef CLEAVE_CUDA_KERNEL_OP
} cleave_cuda_api;

/* This library's table (static, never freed; each member is the library's own function). */
cleave_cuda_api* CLEAVE_CUDA_FN(table)(void);

#ifdef __cplusplus
}
#endif
#endif
