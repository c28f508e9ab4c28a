package dev.cleave.nativ;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of native/include/cleave_modular.h (the modular-training kernels in
 * libcleave_cpu). Raw calls: arguments are validated by the callers in
 * {@code dev.cleave.modular}, and a nonzero status is turned into a {@link NativeException} by
 * {@link CpuKernels#check(int)}.
 */
@Platform(include = "cleave_modular.h", link = "cleave_cpu")
public final class ModularKernels {
    static {
        NativeLibraries.loadOpenBlas();
        Loader.load();
    }

    /** Largest number of clusters {@link #cleave_enmeshment} accepts (CLEAVE_ENMESHMENT_MAX_K). */
    public static final int ENMESHMENT_MAX_K = 65536;

    private ModularKernels() {}

    public static native int cleave_enmeshment(@Const FloatPointer w,
            @Cast("const int32_t*") IntPointer rowLabels, @Cast("const int32_t*") IntPointer colLabels,
            int rows, int cols, int slice, int k, float scale, FloatPointer grad, DoublePointer cOut);
}
