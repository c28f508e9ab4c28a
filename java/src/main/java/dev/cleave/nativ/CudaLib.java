package dev.cleave.nativ;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of cuda/include/cleave_cuda.h (libcleave_cuda: the nvcc-built library, or
 * the stub where nvcc was absent at build time). Loading it never needs a GPU or a driver.
 */
@Platform(include = "cleave_cuda.h", link = "cleave_cuda")
public final class CudaLib {
    static {
        Loader.load();
    }

    private CudaLib() {}

    public static native @Cast("const char*") BytePointer cleave_cuda_last_error();

    public static native int cleave_cuda_is_real();

    public static native int cleave_cuda_runtime_version();

    public static native int cleave_cuda_driver_version(IntPointer version);

    public static native int cleave_cuda_device_count(IntPointer count);

    public static native int cleave_cuda_device_info(int index, @Cast("char*") BytePointer name, int nameLen,
            IntPointer major, IntPointer minor, @Cast("long long*") LongPointer totalMem,
            IntPointer hasKernelImage);

    public static native int cleave_cuda_kernel_archs(IntPointer sass, IntPointer nSass, IntPointer ptx, IntPointer nPtx,
            int max);

    public static native int cleave_cuda_device_attrs(int index, IntPointer computeMode, IntPointer smCount,
            IntPointer fp64Ratio);

    public static native int cleave_cuda_set_device(int index);

    public static native int cleave_cuda_test_launch();
}
