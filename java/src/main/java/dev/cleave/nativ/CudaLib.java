package dev.cleave.nativ;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of libcleave_cuda (the nvcc-built library, or the stub where nvcc was absent at
 * build time): its table of functions, which {@link CudaApi#device()} wraps. Loading it never
 * needs a GPU or a driver.
 */
@Platform(include = "cleave_cuda.h", link = "cleave_cuda")
public final class CudaLib {
    static {
        Loader.load();
    }

    private CudaLib() {}

    /** libcleave_cuda's table of every op (cuda/include/cleave_cuda_ops.h). */
    static native CudaApi cleave_cuda_table();
}
