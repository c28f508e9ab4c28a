package dev.cleave.pipeline;

import dev.cleave.cluster.CoClusterOptions;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.graph.SliceNorm;
import dev.cleave.nn.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Co-cluster chosen layers of a model: what {@code cleave cocluster MODEL} asks
 * {@link Pipeline#cocluster} for.
 *
 * @param model   the model file (safetensors)
 * @param k       co-clusters per layer
 * @param layers  the layers: hidden, all, or a comma-separated list of indices or of weight or
 *                module names (fc2.weight,fc3)
 * @param variant joint (Dhillon) or separate (G24)
 * @param nInit   k-means++ restarts
 * @param norm    for a CNN, how a conv layer's channel-norm matrix weighs a kernel slice; null:
 *                l1 for a CNN, nothing for an MLP (an MLP given a norm is an error). A run
 *                records the norm it used.
 * @param seed    the one seed
 * @param device  where it runs (with its threads)
 * @param out     where the result is written (recorded in the command line); null: nowhere
 */
public record CoclusterRequest(Path model, int k, String layers, CoClusterVariant variant, int nInit, SliceNorm norm, long seed,
        Device device, Path out) {
    public CoclusterRequest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(layers, "layers");
        Objects.requireNonNull(variant, "variant");
        Objects.requireNonNull(device, "device");
    }

    /** With the default k-means++ restarts. */
    public CoclusterRequest(Path model, int k, String layers, CoClusterVariant variant, long seed, Device device, Path out) {
        this(model, k, layers, variant, CoClusterOptions.defaults().nInit(), null, seed, device, out);
    }

    /** Without a slice norm (an MLP, or a CNN's default l1). */
    public CoclusterRequest(Path model, int k, String layers, CoClusterVariant variant, int nInit, long seed, Device device,
            Path out) {
        this(model, k, layers, variant, nInit, null, seed, device, out);
    }

    /** This request with the slice norm it ran with. */
    CoclusterRequest withNorm(SliceNorm n) {
        return new CoclusterRequest(model, k, layers, variant, nInit, n, seed, device, out);
    }

    /** The options as {@code cleave cocluster} words. */
    List<String> arguments() {
        List<String> a = new ArrayList<>(List.of(model.toString()));
        Provenance.add(a, "--k", k);
        Provenance.add(a, "--layers", layers);
        Provenance.add(a, "--n-init", nInit);
        Provenance.add(a, "--variant", variant);
        if (norm != null) {
            Provenance.add(a, "--slice-norm", norm);
        }
        Provenance.addIfGiven(a, "--out", out);
        return a;
    }

    Provenance provenance() {
        return Provenance.of("cocluster", arguments(), seed, device);
    }
}
