package dev.cleave.pipeline;

import dev.cleave.circuits.EffectiveCircuitSize;
import dev.cleave.nn.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Cluster ablation and effective circuit sizes of a model: what {@code cleave circuits MODEL}
 * asks {@link Pipeline#circuits} for.
 *
 * @param model    the model file (safetensors)
 * @param chain    an MLP file: the model's layers by weight or module name, first layer first;
 *                 empty: found from the tensor names. A network (a cleave-net-v1 file, or any
 *                 file with {@code arch}): the layers to co-cluster ({@code fc2}, {@code conv1},
 *                 a sequence index or {@code layers.<i>}); empty: its dense hidden-to-hidden layers
 * @param clusters a {@code cleave cocluster --out} file whose clusters are ablated; null: the
 *                 model's own modular clusters, else co-clustering the hidden layers with k
 * @param k        co-clusters when the model has none
 * @param dataset  the data set's name (its test split is what the step is given)
 * @param dataDir  the folder it was read from, when one was given; null otherwise
 * @param ecs      the effective-circuit-size search; null: only the ablation
 * @param seed     the one seed (co-clustering)
 * @param device   where it runs (with its threads)
 * @param out      where the result is written (recorded in the command line); null: nowhere
 * @param arch     the network's architecture for a file that does not record one (as
 *                 {@code eval --arch}); null: the file's own, or an MLP
 * @param channelEcs also search the effective circuit over conv channels (a network with convs only)
 */
public record CircuitsRequest(Path model, List<String> chain, Path clusters, int k, String dataset, Path dataDir,
        EffectiveCircuitSize.Options ecs, long seed, Device device, Path out, String arch, boolean channelEcs) {
    public CircuitsRequest {
        Objects.requireNonNull(model, "model");
        chain = chain == null ? List.of() : List.copyOf(chain);
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(device, "device");
    }

    /** An MLP's circuits (no --arch, no channel search). */
    public CircuitsRequest(Path model, List<String> chain, Path clusters, int k, String dataset, Path dataDir,
            EffectiveCircuitSize.Options ecs, long seed, Device device, Path out) {
        this(model, chain, clusters, k, dataset, dataDir, ecs, seed, device, out, null, false);
    }

    /** With the layers found from the tensor names. */
    public CircuitsRequest(Path model, Path clusters, int k, String dataset, Path dataDir, EffectiveCircuitSize.Options ecs,
            long seed, Device device, Path out) {
        this(model, List.of(), clusters, k, dataset, dataDir, ecs, seed, device, out);
    }

    /** The options as {@code cleave circuits} words. */
    List<String> arguments() {
        List<String> a = new ArrayList<>(List.of(model.toString()));
        if (arch != null) {
            Provenance.add(a, "--arch", arch);
        }
        if (!chain.isEmpty()) {
            Provenance.add(a, "--layers", String.join(",", chain));
        }
        Provenance.add(a, "--dataset", dataset);
        Provenance.addIfGiven(a, "--data-dir", dataDir);
        Provenance.addIfGiven(a, "--clusters", clusters);
        Provenance.add(a, "--k", k);
        if (ecs == null) {
            a.add("--no-ecs");
        } else {
            Provenance.add(a, "--images-per-label", ecs.imagesPerLabel());
            if (ecs.layers() != null) {
                Provenance.add(a, "--ecs-layers", Arrays.stream(ecs.layers()).mapToObj(Integer::toString)
                        .collect(Collectors.joining(",")));
            }
            Provenance.add(a, "--method", ecs.method());
            if (channelEcs) {
                a.add("--ecs-channels");
            }
        }
        Provenance.addIfGiven(a, "--out", out);
        return a;
    }

    Provenance provenance() {
        return Provenance.of("circuits", arguments(), seed, device);
    }
}
