package dev.cleave.cli;

public final class Main {
    public static void main(String[] args) {
        System.out.println(dev.cleave.nativ.NativeLibraries.loadCpu());
        System.out.println(dev.cleave.nativ.CpuKernels.cleave_build_info().getString());
    }
}
