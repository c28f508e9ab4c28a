package dev.cleave.nn;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.cleave.nativ.CudaApi;
import dev.cleave.util.InvalidInputException;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Where work runs: the one value that the user's {@code --backend} (java, cpu, cuda, cuda-emu or
 * auto) and {@code --threads} resolve to, once, and that training, evaluation, clustering,
 * co-clustering and circuits all take. Immutable and thread-safe.
 *
 * <ul>
 *   <li>{@link Kind#JAVA}: the plain-Java reference of every op, in double precision;</li>
 *   <li>{@link Kind#CPU}: the hand-written C++ kernels (libcleave_cpu: OpenMP, OpenBLAS, LAPACK);</li>
 *   <li>{@link Kind#CUDA}: the CUDA kernels on a GPU (libcleave_cuda), on the GPU chosen at
 *       resolution ({@code --device N}, else the first usable one: {@link CudaProbe});</li>
 *   <li>{@link Kind#CUDA_EMU}: the same CUDA kernels run by the CPU emulator (libcleave_cuda_emu:
 *       slow, for tests on machines without a GPU).</li>
 * </ul>
 *
 * <p>{@link #resolve} is the only place below the CLI that asks {@link CudaProbe} whether CUDA can
 * run: asking for {@code cuda} where it cannot is an error that says why, never a quiet fall
 * back; {@code auto} picks cuda when it is usable and cpu otherwise and records what it chose
 * and why ({@link #choice()}). Nothing below re-probes or parses a backend name again: ops come
 * from {@link #open()}, the CUDA library (with its device made current) from {@link #cuda()}.
 *
 * <p>In JSON a device is its kind's name ({@code "cpu"}, ...).
 */
public final class Device {
    /** The names {@link #resolve} accepts, for messages. */
    public static final String NAMES = "java, cpu, cuda, auto (and cuda-emu: the CUDA kernels emulated on the CPU, for testing)";

    /** Which implementation of the ops runs. */
    public enum Kind {
        JAVA("java"), CPU("cpu"), CUDA("cuda"), CUDA_EMU("cuda-emu");

        private final String word;

        Kind(String word) {
            this.word = word;
        }

        /** The word the CLI and JSON use: java, cpu, cuda or cuda-emu. */
        @JsonValue
        @Override
        public String toString() {
            return word;
        }

        /** Whether this kind runs the CUDA kernels (on a GPU or on the emulator). */
        public boolean isCuda() {
            return this == CUDA || this == CUDA_EMU;
        }

        /** Parses java, cpu, cuda or cuda-emu (any case), with an error naming the valid words. */
        @JsonCreator
        public static Kind parse(String s) {
            for (Kind k : values()) {
                if (s != null && k.word.equals(s.trim().toLowerCase(Locale.ROOT))) {
                    return k;
                }
            }
            throw new InvalidInputException("backend must be one of " + Arrays.stream(values()).map(Kind::toString)
                    .collect(Collectors.joining(", ")) + " (a resolved device; 'auto' is resolved before it is recorded), got '"
                    + s + "'");
        }
    }

    private final Kind kind;
    private final int threads;
    private final int cudaIndex;
    private final String choice;
    private final boolean loadAdaptive;

    private Device(Kind kind, int threads, int cudaIndex, String choice) {
        this(kind, threads, cudaIndex, choice, false);
    }

    private Device(Kind kind, int threads, int cudaIndex, String choice, boolean loadAdaptive) {
        if (threads < 1) {
            throw new InvalidInputException("--threads must be >= 1, got " + threads);
        }
        this.kind = kind;
        this.threads = threads;
        this.cudaIndex = cudaIndex;
        this.choice = choice;
        this.loadAdaptive = loadAdaptive;
    }

    /**
     * Resolves the user's choice {@code name} (java, cpu, cuda, cuda-emu or auto) with
     * {@code threads} threads, on the first usable GPU for cuda and auto. {@code auto} says what
     * it chose and why through {@code log} (and in {@link #choice()}). {@code cuda} where it
     * cannot run is an {@link InvalidInputException} with the reason.
     */
    public static Device resolve(String name, int threads, Consumer<String> log) {
        return resolve(name, threads, CudaProbe.NONE, log);
    }

    /**
     * As {@link #resolve(String, int, Consumer)}, on GPU {@code gpu} (an index among the visible
     * GPUs, the CLI's {@code --device}; {@link CudaProbe#NONE}: the first usable one) for cuda
     * and auto. The java, cpu and cuda-emu kinds ignore it.
     */
    public static Device resolve(String name, int threads, int gpu, Consumer<String> log) {
        if (threads < 1) {
            throw new InvalidInputException("--threads must be >= 1, got " + threads);
        }
        switch (name == null ? "" : name) {
            case "java":
                return new Device(Kind.JAVA, threads, -1, null);
            case "cpu":
                return new Device(Kind.CPU, threads, -1, null);
            case "cuda-emu":
                return new Device(Kind.CUDA_EMU, threads, 0, null);
            case "cuda": {
                CudaProbe probe = CudaProbe.probe(gpu);
                if (probe.problem() != null) {
                    throw new InvalidInputException("--backend cuda cannot run here: " + probe.problem()
                            + ". Use --backend cpu, or run 'cleave doctor' for details.");
                }
                return new Device(Kind.CUDA, threads, probe.device(), null);
            }
            case "auto": {
                CudaProbe probe = CudaProbe.probe(gpu);
                Device d;
                if (probe.problem() == null) {
                    d = new Device(Kind.CUDA, threads, probe.device(), "auto: chose cuda (GPU " + probe.device() + ": "
                            + probe.chosen().name() + ")");
                } else {
                    d = new Device(Kind.CPU, threads, -1, "auto: chose cpu (cuda not usable: " + probe.problem() + ")");
                }
                log.accept("backend " + d.choice);
                return d;
            }
            default:
                throw new InvalidInputException("--backend " + name + " is not a backend: choose one of " + NAMES);
        }
    }

    /** A resolved device of {@code kind} (as recorded in a config): {@link #resolve} by its name. */
    public static Device of(Kind kind, int threads, Consumer<String> log) {
        return resolve(kind.toString(), threads, log);
    }

    /**
     * A device read back from a record's JSON (its kind's word): java with one thread, the
     * others with all processors, a CUDA kind on device 0. It is what was recorded, not a fresh
     * resolution: to run on a recorded kind, {@link #of} it. Older files' {@code "native"} reads
     * as cpu.
     */
    @JsonCreator
    static Device fromJson(String word) {
        // "native": the cpu engine's name in result files written before the one device value
        Kind kind = "native".equals(word) ? Kind.CPU : Kind.parse(word);
        int all = Math.max(1, Runtime.getRuntime().availableProcessors());
        return new Device(kind, kind == Kind.JAVA ? 1 : all, kind.isCuda() ? 0 : -1, null);
    }

    /** The plain-Java reference (one thread). */
    public static Device java() {
        return new Device(Kind.JAVA, 1, -1, null);
    }

    /** The C++ kernels with {@code threads} threads. */
    public static Device cpu(int threads) {
        return new Device(Kind.CPU, threads, -1, null);
    }

    /** The C++ kernels on all processors. */
    public static Device cpu() {
        return cpu(Math.max(1, Runtime.getRuntime().availableProcessors()));
    }

    /** The CUDA kernels on the CPU emulator. */
    public static Device cudaEmu() {
        return new Device(Kind.CUDA_EMU, Math.max(1, Runtime.getRuntime().availableProcessors()), 0, null);
    }

    public Kind kind() {
        return kind;
    }

    /** Threads the CPU-side work runs with (the cpu kernels, OpenBLAS, clustering). */
    public int threads() {
        return threads;
    }

    public boolean isCuda() {
        return kind.isCuda();
    }

    /** The GPU index a CUDA device runs on (0 for the emulator's one device); -1 for java and cpu. */
    public int gpu() {
        return cudaIndex;
    }

    /** For auto: what it chose and why (e.g. "auto: chose cpu (cuda not usable: ...)"); else null. */
    public String choice() {
        return choice;
    }

    /** This device with another thread count. */
    public Device withThreads(int newThreads) {
        return new Device(kind, newThreads, cudaIndex, choice, loadAdaptive);
    }

    /**
     * This device with the cpu kernels' team following the load ({@code true}: what the CLI
     * does when --threads is left out) or fixed at {@link #threads()}. The work is still split
     * into {@link #threads()} parts, so results are the same either way; only how many threads
     * run them changes, fewer while other processes keep cores busy (native/src/library.cpp).
     */
    public Device withLoadAdaptiveThreads(boolean on) {
        return new Device(kind, threads, cudaIndex, choice, on);
    }

    /** Whether the cpu kernels' team follows the load (see {@link #withLoadAdaptiveThreads}). */
    public boolean loadAdaptive() {
        return loadAdaptive;
    }

    /**
     * The CUDA library of a CUDA device (the GPU's or the emulator's), with this device's GPU
     * made the process's device (every host thread that calls the library works on it).
     */
    public CudaApi cuda() {
        if (!kind.isCuda()) {
            throw new IllegalStateException(kind + " is not a CUDA device");
        }
        CudaApi api = kind == Kind.CUDA ? CudaApi.device() : CudaApi.emulator();
        api.check(api.setDevice(cudaIndex));
        return api;
    }

    /** The ops of this device, ready to use; close it when done (it may hold native buffers). */
    public Backend open() {
        return switch (kind) {
            case JAVA -> new JavaBackend();
            case CPU -> new CpuBackend(this);
            case CUDA, CUDA_EMU -> new CudaBackend(this);
        };
    }

    /** The kind's word: java, cpu, cuda or cuda-emu (what JSON records). */
    @JsonValue
    @Override
    public String toString() {
        return kind.toString();
    }

    /**
     * Devices are equal when they run the same kind with the same threads (an adaptive team
     * gives the same results, so it does not count).
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.kind == kind && d.threads == threads && d.cudaIndex == cudaIndex;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + threads * 7 + cudaIndex;
    }
}
