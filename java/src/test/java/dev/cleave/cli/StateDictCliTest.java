package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cleave.io.Json;
import dev.cleave.io.Safetensors;
import dev.cleave.util.FloatMatrix;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model-reading commands on PyTorch-style state_dicts, as a user meets them: the layers line
 * and the assumption first, --layers naming the chain when the names do not give the order,
 * cocluster selecting layers by name, --n-init and --eigenvalues.
 */
class StateDictCliTest {
    @TempDir
    static Path tmp;
    static Path data, named, unordered, renamed;

    /** Weights of a 64-24-16-10 MLP, seeded; biases only on the first two layers. */
    static List<FloatMatrix> weights() {
        Random r = new Random(11);
        int[] widths = {64, 24, 16, 10};
        List<FloatMatrix> out = new java.util.ArrayList<>();
        for (int l = 0; l + 1 < widths.length; l++) {
            float[] w = new float[widths[l + 1] * widths[l]];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (r.nextGaussian() * 0.3);
            }
            out.add(new FloatMatrix(widths[l + 1], widths[l], w));
        }
        return out;
    }

    static void write(Path file, List<String> names) throws IOException {
        List<FloatMatrix> w = weights();
        LinkedHashMap<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        for (int l = 0; l < w.size(); l++) {
            t.put(names.get(l) + ".weight", Safetensors.Tensor.of(w.get(l)));
            if (l < 2) {
                t.put(names.get(l) + ".bias", Safetensors.Tensor.ofFloats(new long[] {w.get(l).rows()}, new float[w.get(l).rows()]));
            }
        }
        Safetensors.write(file, t, Map.of());
    }

    @BeforeAll
    static void files() throws IOException {
        data = CliTest.writeDataSet(tmp.resolve("data"), 100, 100);
        named = tmp.resolve("named.safetensors");
        write(named, List.of("net.fc1", "net.fc2", "net.head"));
        unordered = tmp.resolve("unordered.safetensors"); // natural order c, d, e does not chain: e, c, d does
        write(unordered, List.of("e", "c", "d"));
        renamed = tmp.resolve("renamed.safetensors");
        write(renamed, List.of("layers.0", "layers.1", "layers.2"));
    }

    private static JsonNode json(String... args) {
        CliTest.Result r = CliTest.cli(args);
        assertEquals(0, r.code(), String.join(" ", args) + "\n" + r.err());
        List<String> lines = r.out().strip().lines().toList();
        return Json.read(lines.get(lines.size() - 1), JsonNode.class);
    }

    @Test
    void theLayersAndTheAssumptionComeFirst() {
        CliTest.Result r = CliTest.cli("cluster", named.toString(), "--k", "3");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("layers: net.fc1.weight 24x64, net.fc2.weight 16x24, net.head.weight 10x16", lines.get(1));
        assertEquals("assumed an MLP: ReLU after every linear layer but the last; 1 layer(s) without a bias read as bias 0",
                lines.get(2));
        JsonNode j = json("cluster", named.toString(), "--k", "3", "--json");
        assertEquals(lines.get(1), j.get("model_layers").asText());
        assertTrue(j.get("assumption").asText().startsWith("assumed an MLP"));
        CliTest.Result e = CliTest.cli("eval", named.toString(), "--dataset", "mnist-idx", "--data-dir", data.toString());
        assertEquals(0, e.code(), e.err());
        assertEquals(lines.get(1), e.out().lines().toList().get(1));
        assertEquals(lines.get(2), e.out().lines().toList().get(2));
    }

    @Test
    void layersNamesTheChainWhenTheNamesDoNotOrderIt() {
        CliTest.Result r = CliTest.cli("cluster", unordered.toString(), "--k", "3");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("the layers do not chain") && r.err().contains("name the chain with --layers NAME,NAME,..."),
                r.err());
        double expected = json("cluster", renamed.toString(), "--k", "3", "--json").get("ncut").asDouble();
        JsonNode j = json("cluster", unordered.toString(), "--k", "3", "--layers", "e,c.weight,d", "--json");
        assertEquals(expected, j.get("ncut").asDouble(), 0.0);
        assertEquals("layers: e.weight 24x64, c.weight 16x24, d.weight 10x16", j.get("model_layers").asText());
        CliTest.Result wrongOrder = CliTest.cli("cluster", unordered.toString(), "--k", "3", "--layers", "c,e,d");
        assertEquals(2, wrongOrder.code());
        assertTrue(wrongOrder.err().contains("check the order of --layers"), wrongOrder.err());
        JsonNode ev = json("eval", unordered.toString(), "--layers", "e,c,d", "--dataset", "mnist-idx", "--data-dir",
                data.toString(), "--json");
        JsonNode ev0 = json("eval", renamed.toString(), "--dataset", "mnist-idx", "--data-dir", data.toString(), "--json");
        assertEquals(ev0.get("accuracy").asDouble(), ev.get("accuracy").asDouble(), 0.0);
    }

    @Test
    void coclusterSelectsLayersByNameOrIndex() {
        JsonNode byName = json("cocluster", named.toString(), "--k", "2", "--layers", "net.fc2", "--json");
        JsonNode byIndex = json("cocluster", named.toString(), "--k", "2", "--layers", "1", "--json");
        assertEquals(1, byName.get("layers").size());
        assertEquals(1, byName.get("layers").get(0).get("layer").asInt());
        assertEquals("net.fc2.weight", byName.get("layers").get(0).get("name").asText());
        assertEquals(byIndex.get("layers").get(0).get("c").asDouble(), byName.get("layers").get(0).get("c").asDouble(), 0.0);
        // A file whose order the names do not give: --layers listing the whole chain reads it.
        JsonNode all = json("cocluster", unordered.toString(), "--k", "2", "--layers", "e,c,d", "--json");
        assertEquals(3, all.get("layers").size());
        CliTest.Result bad = CliTest.cli("cocluster", named.toString(), "--k", "2", "--layers", "net.fc9");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--layers names 'net.fc9', which is not one of the model's layers [net.fc1.weight, "
                + "net.fc2.weight, net.head.weight]"), bad.err());
    }

    @Test
    void coclusterNInitAndClusterEigenvalues() {
        JsonNode one = json("cocluster", named.toString(), "--k", "3", "--n-init", "1", "--json");
        JsonNode many = json("cocluster", named.toString(), "--k", "3", "--n-init", "25", "--json");
        assertEquals(1, one.get("layers").size()); // the hidden-to-hidden weight of a 3-layer MLP
        assertTrue(many.get("layers").get(0).get("c").isNumber() && one.get("layers").get(0).get("c").isNumber());
        CliTest.Result bad = CliTest.cli("cocluster", named.toString(), "--n-init", "0");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--n-init (k-means++ restarts) must be in [1, 100000], got 0"), bad.err());

        JsonNode base = json("cluster", named.toString(), "--k", "3", "--json");
        JsonNode more = json("cluster", named.toString(), "--k", "3", "--eigenvalues", "8", "--json");
        assertEquals(3, more.get("k").asInt());
        assertEquals(base.get("ncut").asDouble(), more.get("ncut").asDouble(), 0.0, "k and the clustering are unchanged");
        assertEquals(8, more.get("smallest_eigenvalues").size());
        for (int i = 0; i < 3; i++) {
            assertEquals(base.get("eigenvalues").get(i).asDouble(), more.get("smallest_eigenvalues").get(i).asDouble(), 1e-9);
        }
        for (int i = 1; i < 8; i++) {
            assertTrue(more.get("smallest_eigenvalues").get(i).asDouble() >= more.get("smallest_eigenvalues").get(i - 1).asDouble()
                    - 1e-12);
        }
        JsonNode fewer = json("cluster", named.toString(), "--k", "3", "--eigenvalues", "2", "--json");
        assertEquals(2, fewer.get("smallest_eigenvalues").size());
        CliTest.Result zero = CliTest.cli("cluster", named.toString(), "--eigenvalues", "0");
        assertEquals(2, zero.code());
        assertTrue(zero.err().contains("--eigenvalues must be >= 1, got 0"), zero.err());
    }
}
