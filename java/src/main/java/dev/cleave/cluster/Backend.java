package dev.cleave.cluster;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * Where the spectral engine runs. {@link #NATIVE} is the C++ engine (libcleave_cpu: OpenMP
 * kernels, LAPACK); {@link #JAVA} is the plain-Java reference implementation of the same
 * algorithms, in double precision, that the tests check the native engine against. Both give
 * the same answers to within the eigensolver's tolerance; the native one is much faster.
 */
public enum Backend {
    @JsonProperty("native") NATIVE,
    @JsonProperty("java") JAVA;

    /** Parses "native" or "java" (any case), with an error naming the valid values. */
    public static Backend parse(String s) {
        return Enums.parse(Backend.class, s, "backend");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
