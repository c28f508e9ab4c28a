package dev.cleave.nativ;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of libcleave_cuda_emu (cuda/include/cleave_cuda_emu.h): the kernels of
 * cuda/src compiled by the host compiler and run on the CPU by the emulation harness in
 * cuda/emu, under the names cleave_cuda_emu_*. Its ops are reached through its table
 * ({@link CudaApi#emulator()}, bound once for both libraries); this class binds the table getter
 * and the emulator's own controls: the thread schedule, launch statistics and the harness
 * self-tests.
 */
@Platform(include = "cleave_cuda_emu.h", link = "cleave_cuda_emu")
public final class CudaEmuKernels {
    static {
        Loader.load();
    }

    private CudaEmuKernels() {}

    /**
     * Schedules for {@link #cleave_cuda_emu_set_schedule} (cleave_cuda_emu.h): fibers in forward, reverse
     * or shuffled order, OS threads, or fibers in lockstep (forward, one barrier phase at a time).
     */
    public static final int SCHEDULE_FORWARD = 0, SCHEDULE_REVERSE = 1, SCHEDULE_SHUFFLED = 2, SCHEDULE_THREADS = 3,
            SCHEDULE_LOCKSTEP = 4;

    public static native int cleave_cuda_emu_set_schedule(int schedule, @Cast("uint64_t") long seed);

    public static native int cleave_cuda_emu_stats(@Cast("int64_t*") LongPointer launches,
            @Cast("int64_t*") LongPointer blocks, @Cast("int64_t*") LongPointer threads,
            @Cast("int64_t*") LongPointer blockBarriers, @Cast("int64_t*") LongPointer warpBarriers);

    /** Host synchronisations, copies, asynchronous copies and memsets since the last reset (cleave_cuda_emu.h). */
    public static native int cleave_cuda_emu_sync_stats(@Cast("int64_t*") LongPointer hostSyncs,
            @Cast("int64_t*") LongPointer copies, @Cast("int64_t*") LongPointer asyncCopies,
            @Cast("int64_t*") LongPointer memsets);

    public static native int cleave_cuda_emu_launched(@Cast("char*") BytePointer buf, int len);

    public static native int cleave_cuda_emu_reset_stats();

    /** The SM count the emulated device reports (1..1024; default 4). */
    public static native int cleave_cuda_emu_set_sm_count(int sms);

    /** 0: faults reported by their launch, not sticky (default); 1: as on a GPU, deferred and sticky. */
    public static native int cleave_cuda_emu_set_error_model(int model);

    /** Clears a sticky fault of error model 1 (as cudaDeviceReset would). */
    public static native int cleave_cuda_emu_reset_device();

    public static native int cleave_cuda_emu_selftest(String name);

    public static native int cleave_cuda_emu_selftest_names(@Cast("char*") BytePointer buf, int len);

    /** The emulator's table of every op (cleave_cuda_ops.h): {@link CudaApi#emulator()}. */
    static native CudaApi cleave_cuda_emu_table();
}
