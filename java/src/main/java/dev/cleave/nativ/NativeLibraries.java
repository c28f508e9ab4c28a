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

    /** Loads libcleave_cpu (and OpenBLAS); returns the path libcleave_cpu.so was loaded from. */
    public static String loadCpu() {
        loadOpenBlas();
        return sibling(Loader.load(CpuKernels.class), "libcleave_cpu.so");
    }

    /** Loads libcleave_cuda (real or stub); returns the path libcleave_cuda.so was loaded from. */
    public static String loadCuda() {
        return sibling(Loader.load(CudaLib.class), "libcleave_cuda.so");
    }

    /** Where libopenblas.so.0 was loaded from. */
    public static String openBlasPath() {
        loadOpenBlas();
        return sibling(openBlasPath, "libopenblas.so.0");
    }

    /** The library {@code name} beside the JNI glue JavaCPP loaded (they are extracted together). */
    private static String sibling(String jniPath, String name) {
        return jniPath == null ? name : java.nio.file.Path.of(jniPath).resolveSibling(name).toString();
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
