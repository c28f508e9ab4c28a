package dev.cleave.util;

/** Version strings recorded in result files. */
public final class Versions {
    private Versions() {}

    /** Cleave's version from the jar manifest, or "dev" when run from classes. */
    public static String cleave() {
        String v = Versions.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
