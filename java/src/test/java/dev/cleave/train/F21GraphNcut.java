package dev.cleave.train;

import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.graph.CnnGraphOptions;
import dev.cleave.graph.CnnLayer;
import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Layer;
import dev.cleave.nn.Shape;
import dev.cleave.util.ProgressListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A test-scope tool (no test): the n-cut of a cleave-net-v1 CNN's F21 graph (conv-to-conv
 * channel edges, max-col-sum slice norms, k 12) and its shuffle test, through the library, for
 * comparing a modular CNN with a plain one while {@code cleave cluster} does not read CNN files.
 * Convs only, without batchnorm (f21-cnn). Run after {@code mvn -pl java -am package} and
 * {@code mvn -pl java test-compile}:
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp java/target/cleave-all.jar:java/target/test-classes \
 *       dev.cleave.train.F21GraphNcut SHUFFLES MODEL.safetensors...
 * </pre>
 */
public final class F21GraphNcut {
    private F21GraphNcut() {}

    public static void main(String[] args) {
        int shuffles = Integer.parseInt(args[0]);
        for (int a = 1; a < args.length; a++) {
            SafetensorsFile f = Safetensors.read(Path.of(args[a]));
            Arch arch = Arch.parse(f.metadata().get("arch"), Shape.parse(f.metadata().get("input_shape")));
            List<CnnLayer> convs = new ArrayList<>();
            for (int i = 0; i < arch.layers().size(); i++) {
                if (arch.layers().get(i) instanceof Layer.Conv2d c) {
                    if (i + 1 < arch.layers().size() && arch.layers().get(i + 1) instanceof Layer.BatchNorm2d) {
                        throw new IllegalArgumentException("this tool does not fold batchnorm; " + args[a] + " has one");
                    }
                    convs.add(CnnLayer.conv(c.outChannels(), arch.shape(i).channels(), c.kernel(), c.kernel(),
                            f.tensor("layers." + i + ".weight").asFloats()));
                }
            }
            CnnUnitGraph graph = CnnUnitGraph.build(convs, CnnGraphOptions.f21());
            ShuffleResult r = ShuffleTest.run(graph, ShuffleOptions.defaults().withShuffles(shuffles)
                    .withCluster(ClusterOptions.defaults().withK(12)), ProgressListener.NONE);
            System.out.printf("%s: F21 graph (%d nodes), k 12: n-cut %.4f; %d shuffles (layer) %.4f +- %.4f, z %s (%.1f s)%n",
                    args[a], graph.network().nodes(), r.trainedNcut(), shuffles, r.mean(), r.sd(),
                    r.z() == null ? "-" : String.format("%.1f", r.z()), r.seconds());
        }
    }
}
