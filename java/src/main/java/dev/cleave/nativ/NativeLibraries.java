package dev.cleave.nativ;

import org.bytedeco.javacpp.Loader;

/**
 * Loads the native libraries in the right order and says where they came from (for
 * {@code cleave doctor}). OpenBLAS must be in the process before libcleave_cpu, which links
 * against its libopenblas.so.0 by soname.
 */
public final class NativeLibraries {
    private static volatile String openBlasPath;

    private NativeLibraries() {}

    static synchronized void loadOpenBlas() {
        if (openBlasPath == null) {
            openBlasPath = Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
        }
    }

    /** Loads libcleave_cpu (and OpenBLAS); returns the path of the loaded JNI library. */
    public static String loadCpu() {
        loadOpenBlas();
        return Loader.load(CpuKernels.class);
    }

    /** Loads libcleave_cuda (real or stub); returns the path of the loaded JNI library. */
    public static String loadCuda() {
        return Loader.load(CudaLib.class);
    }

    public static String openBlasPath() {
        loadOpenBlas();
        return openBlasPath;
    }

    /** Directory JavaCPP extracts native libraries into. */
    public static String cacheDir() {
        try {
            return Loader.getCacheDir().getPath();
        } catch (java.io.IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
