package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Backend;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Network;
import dev.cleave.nn.Shape;
import dev.cleave.util.InvalidInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Network model files: PyTorch names and shapes, round trips, old MLP files read as networks, clear errors. */
class NetworkModelFileTest {
    @TempDir
    Path tmp;

    static final Shape IN = new Shape(1, 8, 8);

    @Test
    void aNetworkRoundTripsWithPyTorchNamesAndShapes() throws Exception {
        Arch a = Arch.parse(NetworkTrainerTest.SMALL_CNN, IN);
        Path file = tmp.resolve("net.safetensors");
        try (Network n = Network.glorotUniform(a, 3)) {
            n.tensors().get(5).tensor().fill(0.25f); // a running mean, so it is not the default
            ModelFile.save(file, n, null, Map.of("epochs_done", "0"), 17);
            SafetensorsFile f = Safetensors.read(file);
            assertEquals(ModelFile.NET_FORMAT, f.metadata().get("format"));
            assertEquals(a.layerList(), f.metadata().get("arch"));
            assertEquals("1x8x8", f.metadata().get("input_shape"));
            assertArrayEquals(new long[] {4, 1, 3, 3}, f.tensor("layers.0.weight").shape());
            assertArrayEquals(new long[] {6, 4, 3, 3}, f.tensor("layers.4.weight").shape());
            assertArrayEquals(new long[] {6}, f.tensor("layers.5.running_var").shape());
            assertArrayEquals(new long[] {17}, f.tensor("layers.5.num_batches_tracked").asLongs());
            assertArrayEquals(new long[] {12, 96}, f.tensor("layers.8.weight").shape()); // 6 x 4 x 4 flattened
            try (ModelFile.LoadedNetwork back = ModelFile.loadNetwork(file, null, IN)) {
                for (int i = 0; i < n.tensors().size(); i++) {
                    assertEquals(n.tensors().get(i).name(), back.network().tensors().get(i).name());
                    assertArrayEquals(n.tensors().get(i).tensor().toArray(), back.network().tensors().get(i).tensor().toArray());
                }
            }
            try (ModelFile.LoadedNetwork own = ModelFile.loadNetwork(file, null, new Shape(3, 32, 32))) {
                assertEquals(IN, own.network().arch().input(), "the file's input shape wins");
            }
            InvalidInputException wrongArch = assertThrows(InvalidInputException.class,
                    () -> ModelFile.loadNetwork(file, "conv:5,relu,maxpool,flatten,linear:4", IN));
            assertTrue(wrongArch.getMessage().contains("layers.0.weight"), wrongArch.getMessage());
        }
    }

    @Test
    void anOldMlpFileReadsAsTheSameNetwork() throws Exception {
        Dataset test = TrainerTest.blobs(120, 3);
        Path file = tmp.resolve("mlp.safetensors");
        int[] widths = {64, 20, 12, 4};
        try (Backend backend = new CpuBackend(1); Mlp m = Mlp.glorotUniform(widths, 5)) {
            for (int l = 0; l < m.layers(); l++) {
                m.bias(l).fill(0.01f * (l + 1));
            }
            ModelFile.save(file, m, null, Map.of());
            List<double[]> viaMlp = new ArrayList<>(), viaNet = new ArrayList<>();
            Evaluation a = Evaluation.of(m, test, backend, (i, label, predicted, loss) -> viaMlp.add(new double[] {predicted, loss}));
            try (ModelFile.LoadedNetwork n = ModelFile.loadNetwork(file, null, IN)) {
                assertEquals("flatten,linear:20,relu,linear:12,relu,linear:4", n.network().arch().layerList());
                assertArrayEquals(m.weight(1).toArray(), n.network().tensors().get(2).tensor().toArray());
                assertEquals("layers.3.weight", n.network().tensors().get(2).name());
                Evaluation b = Evaluation.of(n.network(), test, backend,
                        (i, label, predicted, loss) -> viaNet.add(new double[] {predicted, loss}));
                assertEquals(a.accuracy(), b.accuracy());
                assertEquals(a.loss(), b.loss(), 1e-6);
            }
            assertEquals(test.count(), viaMlp.size());
            for (int i = 0; i < viaMlp.size(); i++) {
                assertEquals(viaMlp.get(i)[0], viaNet.get(i)[0], "image " + i);
                assertEquals(viaMlp.get(i)[1], viaNet.get(i)[1], 1e-6, "image " + i);
            }
        }
    }

    @Test
    void aStateDictWithoutMetadataReadsWithAnArch() throws Exception {
        Path file = tmp.resolve("torch.safetensors");
        Arch a = Arch.parse("conv:2,bn,relu,flatten,linear:4:nobias", IN);
        LinkedHashMap<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        try (Network n = Network.glorotUniform(a, 1)) {
            for (Network.Named x : n.tensors()) {
                t.put(x.name(), Safetensors.Tensor.ofFloats(x.spec().dims(), x.tensor().toArray()));
            }
            t.put("layers.1.num_batches_tracked", Safetensors.Tensor.ofLongs(new long[0], new long[] {3}));
            Safetensors.write(file, t, Map.of());
            InvalidInputException none = assertThrows(InvalidInputException.class, () -> ModelFile.loadNetwork(file, null, IN));
            assertTrue(none.getMessage().contains("--arch"), none.getMessage());
            try (ModelFile.LoadedNetwork back = ModelFile.loadNetwork(file, "conv:2,bn,relu,flatten,linear:4:nobias", IN)) {
                assertArrayEquals(n.tensors().get(6).tensor().toArray(), back.network().tensors().get(6).tensor().toArray());
            }
            LinkedHashMap<String, Safetensors.Tensor> bare = new LinkedHashMap<>();
            t.forEach((k, v) -> bare.put(k.substring("layers.".length()), v));
            Path bareFile = tmp.resolve("bare.safetensors");
            Safetensors.write(bareFile, bare, Map.of());
            try (ModelFile.LoadedNetwork back = ModelFile.loadNetwork(bareFile, "conv:2,bn,relu,flatten,linear:4:nobias", IN)) {
                assertArrayEquals(n.tensors().get(0).tensor().toArray(), back.network().tensors().get(0).tensor().toArray(),
                        "a bare nn.Sequential's 0.weight is layer 0's weight");
            }
            t.remove("layers.1.running_var");
            Safetensors.write(file, t, Map.of());
            InvalidInputException missing = assertThrows(InvalidInputException.class,
                    () -> ModelFile.loadNetwork(file, "conv:2,bn,relu,flatten,linear:4:nobias", IN));
            assertTrue(missing.getMessage().contains("layers.1.running_var is missing"), missing.getMessage());
        }
    }

    @Test
    void namedModulesMapToTheArchByTheirChain() throws Exception {
        // As PyTorch users name G24-style networks: conv1 (+ BatchNorm bn1), fc1, fc2 without biases;
        // the names sort the fc layers as numbers (fc10 after fc2).
        String archText = "conv:2,bn,relu,flatten,linear:6:nobias,relu,linear:5:nobias,relu,linear:4";
        Arch a = Arch.parse(archText, IN);
        try (Network n = Network.glorotUniform(a, 4)) {
            List<Network.Named> ts = n.tensors();
            for (Network.Named x : ts) {
                if (!x.name().endsWith("weight")) {
                    float[] v = x.tensor().toArray();
                    for (int j = 0; j < v.length; j++) {
                        v[j] = 0.1f * (j + 1) + (x.name().contains("var") ? 1f : 0f);
                    }
                    x.tensor().copyFrom(v);
                }
            }
            String[][] rename = {{"layers.0.weight", "conv1.weight"}, {"layers.0.bias", "conv1.bias"},
                {"layers.1.weight", "bn1.weight"}, {"layers.1.bias", "bn1.bias"}, {"layers.1.running_mean", "bn1.running_mean"},
                {"layers.1.running_var", "bn1.running_var"}, {"layers.4.weight", "fc1.weight"}, {"layers.6.weight", "fc2.weight"},
                {"layers.8.weight", "fc10.weight"}};
            LinkedHashMap<String, Safetensors.Tensor> t = new LinkedHashMap<>();
            for (String[] r : rename) {
                Network.Named x = ts.stream().filter(y -> y.name().equals(r[0])).findFirst().orElseThrow();
                t.put(r[1], Safetensors.Tensor.ofFloats(x.spec().dims(), x.tensor().toArray()));
            }
            t.put("bn1.num_batches_tracked", Safetensors.Tensor.ofLongs(new long[0], new long[] {3}));
            Path file = tmp.resolve("named.safetensors");
            Safetensors.write(file, t, Map.of());
            try (ModelFile.LoadedNetwork back = ModelFile.loadNetwork(file, archText, IN)) {
                assertEquals("layers: conv1.weight 2x1x3x3 + bn1, fc1.weight 6x128, fc2.weight 5x6, fc10.weight 4x5", back.layers());
                for (int i = 0; i < ts.size(); i++) {
                    Network.Named want = ts.get(i);
                    float[] got = back.network().tensors().get(i).tensor().toArray();
                    if (want.name().equals("layers.8.bias")) {
                        assertArrayEquals(new float[4], got, "the bias the file lacks is zero");
                    } else {
                        assertArrayEquals(want.tensor().toArray(), got, want.name());
                    }
                }
            }
            InvalidInputException noBn = assertThrows(InvalidInputException.class,
                    () -> ModelFile.loadNetwork(file, "conv:2,relu,flatten,linear:6:nobias,relu,linear:5:nobias,relu,linear:4", IN));
            assertTrue(noBn.getMessage().contains("bn1 is a BatchNorm after conv1.weight"), noBn.getMessage());
            InvalidInputException bias = assertThrows(InvalidInputException.class,
                    () -> ModelFile.loadNetwork(file, "conv:2:nobias,bn,relu,flatten,linear:6:nobias,relu,linear:5:nobias,relu,linear:4", IN));
            assertTrue(bias.getMessage().contains("conv1.bias is in the file"), bias.getMessage());
            InvalidInputException shorter = assertThrows(InvalidInputException.class,
                    () -> ModelFile.loadNetwork(file, "conv:2,bn,relu,flatten,linear:6:nobias,relu,linear:4", IN));
            assertTrue(shorter.getMessage().contains("fc2.weight 5x6 is the arch's layer 6"), shorter.getMessage());
            InvalidInputException longer = assertThrows(InvalidInputException.class, () -> ModelFile.loadNetwork(file,
                    "conv:2,bn,relu,flatten,linear:6:nobias,relu,linear:5:nobias,relu,linear:4,relu,linear:3", IN));
            assertTrue(longer.getMessage().contains("more conv and linear layers than the file's chain"), longer.getMessage());
            try (ModelFile.LoadedNetwork explicit = ModelFile.loadNetwork(file, archText, IN, List.of("conv1", "fc1", "fc2", "fc10"))) {
                assertEquals(ts.get(0).tensor().toArray()[0], explicit.network().tensors().get(0).tensor().toArray()[0]);
            }
            InvalidInputException order = assertThrows(InvalidInputException.class,
                    () -> ModelFile.loadNetwork(file, archText, IN, List.of("conv1", "fc2", "fc1", "fc10")));
            assertTrue(order.getMessage().contains("--layers"), order.getMessage());
        }
    }
}
