package dev.cleave.cli;

/** The --arch presets, as a constant for option descriptions (kept equal to {@link dev.cleave.nn.Arch#PRESETS} by a test). */
final class ArchHelp {
    static final String PRESETS = "f21-mlp, f21-cnn, f21-cnn-dropout, g24-cnn, g25-cnn, vgg16-cifar";

    private ArchHelp() {}
}
