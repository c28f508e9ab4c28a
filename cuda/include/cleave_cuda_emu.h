/* Cleave CUDA emulation library (libcleave_cuda_emu, cuda/emu): the kernels of cuda/src compiled
 * by the host C++ compiler and run on the CPU, for testing without a GPU. Its ABI is
 * cleave_cuda.h with every name prefixed cleave_cuda_emu_ instead of cleave_cuda_ (device
 * pointers are then addresses of emulated device allocations), plus the controls below.
 * Bound to Java by dev.cleave.nativ.CudaEmuKernels. Never include this and cleave_cuda.h in the
 * same translation unit. */
#ifndef CLEAVE_CUDA_EMU_H
#define CLEAVE_CUDA_EMU_H
#ifdef CLEAVE_CUDA_H
#error "cleave_cuda_emu.h renames the functions of cleave_cuda.h: include it instead of cleave_cuda.h, not after it"
#endif
#define CLEAVE_CUDA_FN(name) cleave_cuda_emu_##name
#include "cleave_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the threads of a block are scheduled. Blocks always run one after another.
 *  0 fibers, forward: each thread runs until it blocks (barrier, shuffle, vote), threads in
 *    increasing index order, and the thread that releases a barrier runs on; deterministic.
 *  1 fibers, reverse: the same in decreasing order (a missing __syncthreads shows up in one of
 *    the two orders whichever thread writes first).
 *  2 fibers, shuffled: a new random order, drawn from `seed`, at every scheduling round, and a
 *    coin flip at every release whether the releasing thread runs on.
 *  3 real threads: one std::thread per CUDA thread, barriers on a mutex and condition variable;
 *    the OS interleaves them (slow: for a few small launches).
 *  4 fibers, lockstep: forward order, but the releasing thread yields too, so all threads advance
 *    one barrier phase at a time in index order. */
int cleave_cuda_emu_set_schedule(int schedule, uint64_t seed);

/* The SM count the emulated device reports (default 4, 1..1024): grids sized from the device
 * change with it, results must not (the tests compare bits across SM counts). */
int cleave_cuda_emu_set_sm_count(int sms);

/* How kernel faults (out-of-bounds writes, the fault detectors) are reported. 0 (default): by the
 * launch itself, not sticky. 1, as on a GPU: the launch returns success, the next synchronizing
 * call (cudaMemcpy, cudaMalloc, cudaFree, cudaDeviceSynchronize) reports the fault, and from then
 * on every call fails with it (the context is unusable) until cleave_cuda_emu_reset_device. */
int cleave_cuda_emu_set_error_model(int model);
int cleave_cuda_emu_reset_device(void);

/* Counters since the last reset: kernel launches, blocks, CUDA threads, block barriers
 * (__syncthreads) and warp barriers (shuffles, votes, __syncwarp). Any pointer may be NULL. */
int cleave_cuda_emu_stats(int64_t* launches, int64_t* blocks, int64_t* threads, int64_t* block_barriers, int64_t* warp_barriers);
/* Counters since the last reset of what makes a step wait: host synchronisations (calls after
 * which the host has waited for the device: cudaMemcpy to or from the host, cudaMemcpyAsync to or
 * from pageable host memory, cudaDeviceSynchronize, cudaStreamSynchronize, cudaEventSynchronize,
 * cudaFree, cudaFreeHost), copies (cudaMemcpy and cudaMemcpyAsync, every direction), of them
 * asynchronous ones, and memsets. Any pointer may be NULL. */
int cleave_cuda_emu_sync_stats(int64_t* host_syncs, int64_t* copies, int64_t* async_copies, int64_t* memsets);
/* Writes the distinct kernels launched since the last reset, as "name=count" entries joined by
 * ';' (names as written at the launch site, template arguments included), into buf. */
int cleave_cuda_emu_launched(char* buf, int len);
int cleave_cuda_emu_reset_stats(void);

/* Runs one of the harness's own self-tests (kernels that exercise barriers, shuffles, votes,
 * atomics, shared-memory poisoning and the fault detectors) by name; 0 when the harness behaved
 * as specified, else the failure is in last_error(). cleave_cuda_emu_selftest_names writes the
 * names, ';'-joined. */
int cleave_cuda_emu_selftest(const char* name);
int cleave_cuda_emu_selftest_names(char* buf, int len);

#ifdef __cplusplus
}
#endif
#endif
