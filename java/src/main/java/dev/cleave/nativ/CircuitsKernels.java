package dev.cleave.nativ;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of native/include/cleave_circuits.h (the effective-circuit search in
 * libcleave_cpu). Raw calls: {@code dev.cleave.circuits} validates the arguments; a nonzero
 * status (or a null state from {@link #cleave_circuit_new}) becomes a {@link NativeException}
 * through {@link CpuKernels#check(int)}.
 */
@Platform(include = "cleave_circuits.h", link = "cleave_cpu")
public final class CircuitsKernels {
    static {
        NativeLibraries.loadOpenBlas();
        Loader.load();
    }

    private CircuitsKernels() {}

    public static native int cleave_circuit_loss(int layers, @Cast("const int32_t*") IntPointer widths,
            @Const FloatPointer weights, @Const FloatPointer biases, @Const FloatPointer images, int count, int label,
            int scaleBits, @Cast("int64_t*") LongPointer losses);

    public static native @Cast("cleave_circuit*") Pointer cleave_circuit_new(int layers,
            @Cast("const int32_t*") IntPointer widths, @Const FloatPointer weights, @Const FloatPointer biases,
            @Const FloatPointer images, int count, int label, int scaleBits);

    public static native int cleave_circuit_prune(@Cast("cleave_circuit*") Pointer circuit, int layer, int rowBegin,
            int rowEnd, @Cast("int64_t*") LongPointer trials);

    public static native int cleave_circuit_state(@Cast("const cleave_circuit*") Pointer circuit, FloatPointer weights,
            @Cast("int64_t*") LongPointer totals);

    public static native void cleave_circuit_free(@Cast("cleave_circuit*") Pointer circuit);
}
