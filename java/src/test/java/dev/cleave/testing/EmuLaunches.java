package dev.cleave.testing;

import dev.cleave.nativ.CudaEmuKernels;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * Kernel launches counted by the CUDA emulator (cleave_cuda_emu_stats, cleave_cuda_emu_launched),
 * and its host synchronisations and copies (cleave_cuda_emu_sync_stats): how a test proves that
 * work ran on the emulated CUDA kernels rather than on the CPU engine, and how many launches and
 * round trips it took.
 */
public final class EmuLaunches {
    private EmuLaunches() {}

    /** Zeroes the emulator's counters. */
    public static void reset() {
        if (CudaEmuKernels.cleave_cuda_emu_reset_stats() != 0) {
            throw new IllegalStateException("cleave_cuda_emu_reset_stats failed");
        }
    }

    /** Kernel launches since the last {@link #reset()}. */
    public static long total() {
        try (LongPointer launches = new LongPointer(1)) {
            if (CudaEmuKernels.cleave_cuda_emu_stats(launches, null, null, null, null) != 0) {
                throw new IllegalStateException("cleave_cuda_emu_stats failed");
            }
            return launches.get();
        }
    }

    /**
     * Host synchronisations since the last {@link #reset()}: calls after which the host waited for
     * the emulated device (cleave_cuda_emu_sync_stats: cudaMemcpy to or from the host, an async
     * copy from pageable memory, device/stream/event synchronisations, cudaFree, cudaFreeHost).
     */
    public static long hostSyncs() {
        return syncStats()[0];
    }

    /** {host synchronisations, copies, asynchronous copies, memsets} since the last {@link #reset()}. */
    public static long[] syncStats() {
        try (LongPointer syncs = new LongPointer(1); LongPointer copies = new LongPointer(1);
                LongPointer async = new LongPointer(1); LongPointer memsets = new LongPointer(1)) {
            if (CudaEmuKernels.cleave_cuda_emu_sync_stats(syncs, copies, async, memsets) != 0) {
                throw new IllegalStateException("cleave_cuda_emu_sync_stats failed");
            }
            return new long[] {syncs.get(), copies.get(), async.get(), memsets.get()};
        }
    }

    /** Launches per kernel name (as written at the launch site) since the last {@link #reset()}. */
    public static Map<String, Long> perKernel() {
        Map<String, Long> out = new TreeMap<>();
        try (BytePointer buf = new BytePointer(1 << 16)) {
            if (CudaEmuKernels.cleave_cuda_emu_launched(buf, 1 << 16) != 0) {
                throw new IllegalStateException("cleave_cuda_emu_launched: the list does not fit 64 KiB");
            }
            String all = buf.getString(); // the whole buffer (its limit): the list ends at the first NUL
            int nul = all.indexOf('\0');
            all = nul < 0 ? all : all.substring(0, nul);
            if (!all.isEmpty()) {
                for (String entry : all.split(";")) {
                    int eq = entry.lastIndexOf('=');
                    out.put(entry.substring(0, eq), Long.parseLong(entry.substring(eq + 1)));
                }
            }
        }
        return out;
    }

    /** Launches of the kernels whose name starts with {@code prefix} (e.g. "gemm_kernel": every instantiation). */
    public static long count(Map<String, Long> launched, String prefix) {
        return launched.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToLong(Map.Entry::getValue).sum();
    }

    /**
     * Asserts that each kernel family in {@code prefixes} was launched at least once, naming the
     * missing ones and everything that was launched.
     */
    public static void assertLaunched(Map<String, Long> launched, String what, String... prefixes) {
        java.util.List<String> missing = java.util.Arrays.stream(prefixes).filter(p -> count(launched, p) == 0).toList();
        if (!missing.isEmpty()) {
            throw new AssertionError(what + ": not launched on the emulator: " + missing + "; launched: " + launched);
        }
    }
}
