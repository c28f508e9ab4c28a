package dev.cleave.pipeline;

import dev.cleave.circuits.AblationResult;
import dev.cleave.circuits.ClusterAblation;
import dev.cleave.circuits.EcsResult;
import dev.cleave.circuits.EffectiveCircuitSize;
import dev.cleave.circuits.LabelCircuit;
import dev.cleave.circuits.NetworkCircuits;
import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ClusterResult;
import dev.cleave.cluster.CoClusterOptions;
import dev.cleave.cluster.CoClusterResult;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.cluster.CoClustering;
import dev.cleave.cluster.EigenOptions;
import dev.cleave.cluster.EigenResult;
import dev.cleave.cluster.LaplacianEigensolver;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.cluster.SpectralClustering;
import dev.cleave.data.Dataset;
import dev.cleave.graph.CnnGraphOptions;
import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.MatrixMarket;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.graph.SliceNorm;
import dev.cleave.modular.Enmeshment;
import dev.cleave.modular.LayerClusters;
import dev.cleave.modular.LayerSelection;
import dev.cleave.modular.ChannelClusters;
import dev.cleave.nn.Network;
import dev.cleave.train.RunDir;
import dev.cleave.nn.Backend;
import dev.cleave.train.ModelFile;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;
import org.eclipse.collections.api.list.primitive.ImmutableIntList;
import org.eclipse.collections.api.list.primitive.IntList;

/**
 * The analysis steps below the CLI, each from a typed request to a result record with its
 * provenance: cluster a model ({@link #clusterModel}) or a graph ({@link #clusterGraph}),
 * co-cluster a model's layers ({@link #cocluster}), and a model's circuits ({@link #circuits}).
 * {@link Demo} runs them in the demo's sequence. Nothing here parses options or prints;
 * {@link Results} writes and reads the records' JSON.
 */
public final class Pipeline {
    private Pipeline() {}

    /**
     * Clusters a model's network graph and, with shuffles, runs the shuffle test; with
     * {@code eigenvalues > 0} also reports that many smallest eigenvalues.
     */
    public static ClusterRun clusterModel(ClusterModelRequest request, ProgressListener progress) {
        return clusterModel(request, progress, ShuffleTest::run);
    }

    /**
     * {@link #clusterModel(ClusterModelRequest, ProgressListener)} with the shuffle test run by
     * {@code shuffleTest} (e.g. spread over Spark tasks; the result is the same).
     */
    public static ClusterRun clusterModel(ClusterModelRequest request, ProgressListener progress, ShuffleTest.Runner shuffleTest) {
        CnnModel cnn = CnnModel.readIfCnn(request.model(), request.chain());
        if (cnn != null) {
            return clusterCnn(cnn, request, progress, shuffleTest);
        }
        if (request.graph() != null) {
            throw new InvalidInputException(request.model() + " is an MLP (linear layers only): --slice-norm and --edges build"
                    + " the unit graph of a CNN (conv layers); drop them");
        }
        List<FloatMatrix> weights;
        String layers, assumption;
        try (ModelFile.Loaded loaded = ModelFile.load(request.model(), request.chain())) {
            weights = loaded.model().weightMatrices();
            layers = loaded.layers();
            assumption = loaded.assumption();
        }
        Clustered c = clusterLayered(weights, null, request, progress, shuffleTest);
        return new ClusterRun(c.trained(), c.shuffle(), request.model().toString(), null, layers, assumption, c.smallest(),
                request.provenance());
    }

    /**
     * Clusters a CNN's unit graph ({@link CnnUnitGraph}, under the request's graph options or
     * the defaults) and, with shuffles, runs the shuffle test on its unit matrices.
     */
    private static ClusterRun clusterCnn(CnnModel cnn, ClusterModelRequest request, ProgressListener progress,
            ShuffleTest.Runner shuffleTest) {
        CnnGraphOptions graphOptions = request.graph() != null ? request.graph() : CnnGraphOptions.defaults();
        CnnUnitGraph graph = cnn.graph(graphOptions);
        Clustered c = clusterLayered(graph.unitMatrices(), graph.network(), request, progress, shuffleTest);
        List<ClusterRun.UnitLayer> units = new ArrayList<>();
        for (CnnUnitGraph.UnitLayer u : graph.unitLayers()) {
            units.add(new ClusterRun.UnitLayer(u.name(), u.source() < 0 ? null : cnn.weightNames().get(u.source()), u.units()));
        }
        return new ClusterRun(c.trained(), c.shuffle(), request.model().toString(), null, cnn.summary(), cnn.assumption(),
                c.smallest(), graphOptions, units, request.withGraph(graphOptions).provenance());
    }

    /** A layered graph's clustering, shuffle test (null when none ran) and extra eigenvalues (null when none were asked for). */
    private record Clustered(ClusterResult trained, ShuffleSummary shuffle, double[] smallest) {}

    /**
     * Clusters the layered graph of {@code matrices} (an MLP's weights, a CNN's unit matrices;
     * {@code graph} is their graph when already built, else null) and runs what the request asks
     * besides: the shuffle test on those matrices, the extra smallest eigenvalues.
     */
    private static Clustered clusterLayered(List<FloatMatrix> matrices, NetworkGraph graph, ClusterModelRequest request,
            ProgressListener progress, ShuffleTest.Runner shuffleTest) {
        ClusterResult trained;
        ShuffleSummary shuffle = null;
        NetworkGraph g = graph;
        if (request.shuffles() > 0) {
            ShuffleResult s = shuffleTest.run(matrices, ShuffleOptions.defaults().withMethod(request.method())
                    .withShuffles(request.shuffles()).withCluster(request.options()), progress);
            trained = s.trained();
            shuffle = ShuffleSummary.of(s);
        } else {
            if (g == null) {
                g = NetworkGraph.fromWeights(matrices);
            }
            trained = SpectralClustering.cluster(g, request.options());
        }
        double[] smallest = null;
        if (request.eigenvalues() > 0) {
            NetworkGraph eg = g != null ? g : NetworkGraph.fromWeights(matrices);
            smallest = smallestEigenvalues(trained, request.eigenvalues(), eg.nodes(), eo -> LaplacianEigensolver.smallest(eg, eo));
        }
        return new Clustered(trained, shuffle, smallest);
    }

    /** Clusters the graph of a Matrix Market file. */
    public static ClusterRun clusterGraph(ClusterGraphRequest request) {
        CsrGraph g = MatrixMarket.read(request.graph(), request.selfLoops(), request.duplicates());
        ClusterResult r = SpectralClustering.cluster(g, request.options());
        double[] smallest = request.eigenvalues() <= 0 ? null
                : smallestEigenvalues(r, request.eigenvalues(), g.nodes(), eo -> LaplacianEigensolver.smallest(g, eo));
        return new ClusterRun(r, null, null, request.graph().toString(), null, null, smallest, request.provenance());
    }

    /** The {@code n} smallest eigenvalues beside the clustering's k: from its own solve when n <= k, else a solve for n. */
    private static double[] smallestEigenvalues(ClusterResult r, int n, int nodes, Function<EigenOptions, EigenResult> solve) {
        if (n > nodes) {
            throw new InvalidInputException("--eigenvalues " + n + " is more than the graph's " + nodes + " nodes");
        }
        if (n <= r.eigenvalues().length) {
            return Arrays.copyOf(r.eigenvalues(), n);
        }
        ClusterOptions o = r.options();
        return solve.apply(new EigenOptions(n, o.tolerance(), o.maxIterations(), o.blockSize(), o.seed(), o.threads(),
                o.solver(), o.backend())).requireConverged().eigenvalues();
    }

    /** Co-clusters the chosen layers of a model on the request's device (with its threads). */
    public static CoclusterRun cocluster(CoclusterRequest request) {
        int k = request.k();
        if (k < 1) {
            throw new InvalidInputException("--k must be >= 1 (co-clusters per layer), got " + k);
        }
        List<String> names = LayerSelection.names(request.layers());
        CnnModel cnn = readCnnNamed(request.model(), names);
        if (cnn != null) {
            return coclusterCnn(cnn, request, names);
        }
        if (request.norm() != null) {
            throw new InvalidInputException(request.model() + " is an MLP (linear layers only): --slice-norm weighs the kernel"
                    + " slices of a CNN's conv layers; drop it");
        }
        List<FloatMatrix> weights;
        List<String> weightNames;
        String summary, assumption;
        try (ModelFile.Loaded loaded = loadNamed(request.model(), names)) {
            weights = loaded.model().weightMatrices();
            weightNames = loaded.weightNames();
            summary = loaded.layers();
            assumption = loaded.assumption();
        }
        ImmutableIntList chosen = names.isEmpty() ? LayerSelection.indices(request.layers(), weights.size(), "--layers")
                : LayerSelection.indicesOf(names, weightNames, "--layers");
        LayerSelection.requireClustersFit(chosen, weights, k, "--k");
        CoClusterOptions options = CoClusterOptions.defaults().withK(k).withVariant(request.variant()).withNInit(request.nInit())
                .withSeed(request.seed()).withThreads(request.device().threads()).withBackend(request.device());
        List<CoclusterRun.Layer> layers = new ArrayList<>();
        List<LayerClusters> clusters = coclusterLayers(request.model(), weights, weightNames, chosen, options, layers);
        return new CoclusterRun(request.model().toString(), summary, assumption, k, request.variant(), null, layers, clusters,
                request.provenance());
    }

    /**
     * Co-clusters the chosen weighted layers of a CNN: a conv layer's out x in channel-norm
     * matrix, the first linear layer's out x channels block norms, a later linear's |W|
     * (batchnorms folded), as its unit graph weighs them; C is measured on the layer's own
     * weights, each (row, column) slice whole.
     */
    private static CoclusterRun coclusterCnn(CnnModel cnn, CoclusterRequest request, List<String> names) {
        int k = request.k();
        SliceNorm norm = request.norm() != null ? request.norm() : SliceNorm.L1;
        int n = cnn.layers().size();
        ImmutableIntList chosen = names.isEmpty() ? cnnPositions(cnn, request.layers())
                : LayerSelection.indicesOf(names, cnn.weightNames(), "--layers");
        List<FloatMatrix> matrices = new ArrayList<>(java.util.Collections.nCopies(n, (FloatMatrix) null)); // chosen layers only
        chosen.forEach(l -> matrices.set(l, cnn.unitMatrix(l, norm)));
        LayerSelection.requireClustersFit(chosen, matrices, k, "--k");
        CoClusterOptions options = CoClusterOptions.defaults().withK(k).withVariant(request.variant()).withNInit(request.nInit())
                .withSeed(request.seed()).withThreads(request.device().threads()).withBackend(request.device());
        List<CoclusterRun.Layer> layers = new ArrayList<>();
        List<LayerClusters> clusters = coclusterLayers(request.model(), matrices, cnn::weights, cnn::slice,
                l -> cnn.indices().get(l), cnn.weightNames(), chosen, options, layers);
        CoclusterRequest ran = request.withNorm(norm);
        return new CoclusterRun(request.model().toString(), cnn.summary(), cnn.assumption(), k, request.variant(), norm, layers,
                clusters, ran.provenance());
    }

    /**
     * The chain positions {@code spec} selects in a CNN: hidden and all count the weighted layers
     * (convs first); numbers are the layers' indices as clusters record them ({@link CnnModel#indices}:
     * N of layers.N.weight in Cleave's files).
     */
    private static ImmutableIntList cnnPositions(CnnModel cnn, String spec) {
        int n = cnn.layers().size();
        String s = spec.trim();
        if (s.equals("hidden") || s.equals("all")) {
            return LayerSelection.indices(s, n, "--layers");
        }
        int max = cnn.indices().stream().mapToInt(Integer::intValue).max().orElse(0);
        org.eclipse.collections.impl.list.mutable.primitive.IntArrayList out =
                new org.eclipse.collections.impl.list.mutable.primitive.IntArrayList();
        for (int index : LayerSelection.indices(s, max + 1, "--layers").toArray()) {
            int at = cnn.position(index);
            if (at < 0) {
                throw new InvalidInputException("--layers " + s + ": " + index + " is not a weighted layer of " + cnn.file()
                        + " (its conv and linear layers are " + cnn.indices().stream().map(String::valueOf)
                        .collect(java.util.stream.Collectors.joining(","))
                        + ": " + String.join(", ", cnn.weightNames()) + ")");
            }
            out.add(at);
        }
        return out.toImmutable();
    }

    /** {@link CnnModel#readIfCnn} with the chain found from the names, or, when that fails and names are given, with them. */
    private static CnnModel readCnnNamed(Path file, List<String> names) {
        try {
            return CnnModel.readIfCnn(file, List.of());
        } catch (InvalidInputException e) {
            if (names.isEmpty()) {
                throw e;
            }
            return CnnModel.readIfCnn(file, names);
        }
    }

    /** Co-clusters the chosen layers of {@code model}'s weights: their clusters, and per layer C and sizes into {@code layers}. */
    private static List<LayerClusters> coclusterLayers(Path model, List<FloatMatrix> weights, List<String> weightNames,
            IntList chosen, CoClusterOptions options, List<CoclusterRun.Layer> layers) {
        return coclusterLayers(model, weights, weights::get, l -> 1, l -> l, weightNames, chosen, options, layers);
    }

    /**
     * Co-clusters {@code matrices.get(l)} for each chosen layer l; C of the clusters is measured
     * on {@code weights.apply(l)}, rows x (cols x {@code slice.applyAsInt(l)}) (a matrix's own
     * |W| with slice 1; a conv kernel's slices whole); the clusters and layers record layer l as
     * {@code index.applyAsInt(l)}.
     */
    private static List<LayerClusters> coclusterLayers(Path model, List<FloatMatrix> matrices, IntFunction<FloatMatrix> weights,
            IntUnaryOperator slice, IntUnaryOperator index, List<String> weightNames, IntList chosen, CoClusterOptions options,
            List<CoclusterRun.Layer> layers) {
        int k = options.k();
        List<LayerClusters> clusters = new ArrayList<>();
        chosen.forEach(l -> {
            FloatMatrix m = matrices.get(l);
            CoClusterResult r;
            try {
                r = CoClustering.cocluster(m, options);
            } catch (InvalidInputException e) {
                throw new InvalidInputException(model + ", " + weightNames.get(l) + " (layer " + l + "): " + e.getMessage(), e);
            }
            LayerClusters lc = new LayerClusters(index.applyAsInt(l), k, r.rowLabels(), r.columnLabels());
            clusters.add(lc);
            double c;
            try (Enmeshment e = new Enmeshment(m.rows(), m.cols(), slice.applyAsInt(l), k, lc.rowLabels(), lc.colLabels())) {
                c = e.forward(weights.apply(l));
            }
            layers.add(new CoclusterRun.Layer(index.applyAsInt(l), weightNames.get(l), c, sizes(lc.rowLabels(), k), sizes(lc.colLabels(), k),
                    r.singularValues(), r.seconds()));
        });
        return clusters;
    }

    /**
     * The model with its layers found from the tensor names; when that fails and {@code names}
     * are given, with {@code names} as the whole chain (so a file whose order cannot be guessed
     * still reads when --layers lists every layer in order).
     */
    private static ModelFile.Loaded loadNamed(Path file, List<String> names) {
        try {
            return ModelFile.load(file);
        } catch (InvalidInputException e) {
            if (names.isEmpty()) {
                throw e;
            }
            return ModelFile.load(file, names);
        }
    }

    /**
     * Cluster ablation (and the ECS search, when the request has one) of a model on the test
     * split {@code test}, with {@code ops} (opened from the request's device: the ablation's
     * forward passes and, for a model without clusters, the co-clustering run there).
     */
    public static CircuitsRun circuits(CircuitsRequest request, Dataset test, Backend ops, ProgressListener progress) {
        if (ops.device().kind() != request.device().kind()) {
            throw new IllegalArgumentException("circuits on " + request.device() + " was given the ops of " + ops.device());
        }
        Path modelFile = request.model();
        if (request.arch() != null || ModelFile.isNetworkFile(modelFile)) {
            return circuitsOfNetwork(request, test, ops, progress);
        }
        requireLinearLayers(request);
        if (request.channelEcs()) {
            throw new InvalidInputException(modelFile + " is an MLP: it has no conv channels to search (leave out --ecs-channels)");
        }
        try (ModelFile.Loaded loaded = ModelFile.load(modelFile, request.chain())) {
            String clustersFrom;
            List<LayerClusters> clusters;
            if (request.clusters() != null) {
                clustersFrom = request.clusters().toString();
                clusters = readClusters(request.clusters());
            } else if (!loaded.clusters().isEmpty()) {
                clustersFrom = "model metadata (modular training)";
                clusters = loaded.clusters();
            } else {
                clustersFrom = "co-clustering of the hidden layers, k = " + request.k();
                clusters = coclusterHidden(loaded, request);
            }
            AblationResult ablation = ClusterAblation.run(loaded.model(), clusters, test, ops, ClusterAblation.Options.defaults(),
                    progress);
            if (request.ecs() == null) {
                return new CircuitsRun(modelFile.toString(), loaded.layers(), loaded.assumption(), clustersFrom, ablation, null, null,
                        null, null, request.provenance());
            }
            EcsResult e = EffectiveCircuitSize.run(loaded.model(), test, request.ecs(), progress);
            double[] perLabel = new double[e.circuits().size()];
            double sum = 0;
            for (int i = 0; i < perLabel.length; i++) {
                perLabel[i] = e.circuits().get(i).ecs();
                sum += perLabel[i];
            }
            EcsResult stored = e.withoutMasks();
            return new CircuitsRun(modelFile.toString(), loaded.layers(), loaded.assumption(), clustersFrom, ablation, stored, perLabel, sum / perLabel.length,
                    meanOffDiagonal(e.circuitOverlap()), request.provenance());
        }
    }

    /** A PyTorch file with conv layers and no --arch: one line saying to give it (the MLP loader would only refuse the conv). */
    private static void requireLinearLayers(CircuitsRequest request) {
        dev.cleave.io.SafetensorsFile f = dev.cleave.io.Safetensors.read(request.model());
        if (ModelFile.FORMAT.equals(f.metadata().get("format"))) {
            return;
        }
        List<dev.cleave.io.StateDict.Layer> layers;
        try {
            layers = dev.cleave.io.StateDict.layers(f, request.chain());
        } catch (InvalidInputException e) {
            return; // the MLP loader reports it, naming the file
        }
        if (layers.stream().anyMatch(l -> l.kind() != dev.cleave.io.StateDict.Kind.LINEAR)) {
            throw new InvalidInputException(request.model() + " has conv layers (" + dev.cleave.io.StateDict.summary(layers)
                    + ") but does not say its architecture: give it with --arch (a preset such as g24-cnn or a layer list, "
                    + "as for cleave eval --arch)");
        }
    }

    /**
     * Circuits of a network with convolutions (a cleave-net-v1 file, or a state_dict read with
     * the request's arch): ablation of its dense and conv clusters on {@code ops}, the dense ECS
     * and, when asked, the channel ECS ({@link NetworkCircuits}).
     */
    private static CircuitsRun circuitsOfNetwork(CircuitsRequest request, Dataset test, Backend ops, ProgressListener progress) {
        Path modelFile = request.model();
        try (ModelFile.LoadedNetwork loaded = ModelFile.loadNetwork(modelFile, request.arch(), test.shape())) {
            Network network = loaded.network();
            dev.cleave.nn.Arch arch = network.arch();
            String archLine = arch.layerList() + " on " + arch.input().channels() + "x" + arch.input().height() + "x"
                    + arch.input().width();
            String layersLine = "layers: " + describeLayers(network);
            String clustersFrom;
            List<LayerClusters> clusters;
            List<LayerClusters> stored = RunDir.clustersOf(loaded.metadata());
            if (request.clusters() != null) {
                clustersFrom = request.clusters().toString();
                clusters = readClusters(request.clusters());
            } else if (!stored.isEmpty() && request.chain().isEmpty()) {
                clustersFrom = "model metadata (modular training)";
                clusters = stored;
            } else {
                int[] chosen = request.chain().isEmpty() ? NetworkCircuits.hiddenLinearLayers(arch)
                        : request.chain().stream().mapToInt(n -> NetworkCircuits.layerIndex(arch, n)).toArray();
                if (chosen.length == 0) {
                    throw new InvalidInputException(modelFile + " has no dense hidden-to-hidden layers to co-cluster: choose the "
                            + "layers with --layers (fc1, conv1, ...)");
                }
                clusters = coclusterNetworkLayers(network, chosen, request);
                clustersFrom = "co-clustering of " + Arrays.stream(chosen).mapToObj(l -> layerName(arch, l))
                        .collect(java.util.stream.Collectors.joining(", ")) + ", k = " + request.k();
            }
            AblationResult ablation = ClusterAblation.run(network, clusters, test, ops, ClusterAblation.Options.defaults(), progress);
            EcsResult dense = null;
            double[] perLabel = null;
            Double mean = null;
            Double overlap = null;
            EcsResult channels = null;
            double[] perLabelChannels = null;
            Double meanChannels = null;
            if (request.ecs() != null) {
                EcsResult e = NetworkCircuits.denseEcs(network, test, request.ecs(), progress);
                dense = e.withoutMasks();
                perLabel = e.circuits().stream().mapToDouble(LabelCircuit::ecs).toArray();
                mean = Arrays.stream(perLabel).average().orElse(Double.NaN);
                overlap = meanOffDiagonal(e.circuitOverlap());
                if (request.channelEcs()) {
                    EffectiveCircuitSize.Options o = request.ecs();
                    EcsResult c = NetworkCircuits.channelEcs(network, test, new EffectiveCircuitSize.Options(o.labels(),
                            o.imagesPerLabel(), null, o.method(), o.threads()), progress);
                    channels = c.withoutMasks();
                    perLabelChannels = c.circuits().stream().mapToDouble(LabelCircuit::ecs).toArray();
                    meanChannels = Arrays.stream(perLabelChannels).average().orElse(Double.NaN);
                }
            } else if (request.channelEcs()) {
                throw new InvalidInputException("--ecs-channels needs the ECS search: leave out --no-ecs");
            }
            return new CircuitsRun(modelFile.toString(), layersLine, null, clustersFrom, ablation, dense, perLabel, mean, overlap,
                    request.provenance(), archLine, channels, perLabelChannels, meanChannels);
        }
    }

    /** "0 conv 16x1x3x3, 4 linear 64x3136, ..." (sequence index, kind, PyTorch shape) of a network's weight layers. */
    private static String describeLayers(Network network) {
        List<String> parts = new ArrayList<>();
        for (Network.Named n : network.tensors()) {
            if (n.name().endsWith(".weight") && n.spec().role() == dev.cleave.nn.Layer.Role.WEIGHT) {
                String kind = network.arch().layers().get(n.layer()) instanceof dev.cleave.nn.Layer.Conv2d ? "conv" : "linear";
                parts.add(layerName(network.arch(), n.layer()) + " = layers." + n.layer() + " " + kind + " "
                        + Arrays.stream(n.spec().dims()).mapToObj(Long::toString).collect(java.util.stream.Collectors.joining("x")));
            }
        }
        return String.join(", ", parts);
    }

    /** fcN or convN of a layer (G24's names). */
    private static String layerName(dev.cleave.nn.Arch arch, int layer) {
        int[] linear = NetworkCircuits.linearLayers(arch);
        int[] conv = NetworkCircuits.convLayers(arch);
        for (int i = 0; i < linear.length; i++) {
            if (linear[i] == layer) {
                return "fc" + (i + 1);
            }
        }
        for (int i = 0; i < conv.length; i++) {
            if (conv[i] == layer) {
                return "conv" + (i + 1);
            }
        }
        return "layers." + layer;
    }

    /**
     * Co-clusters the chosen layers of a network: a linear layer's |W| as for an MLP, a conv
     * layer's out x in channel-norm matrix (L1 of each kernel slice, batchnorm folded) with
     * {@link ChannelClusters}; the request's k, seed and device.
     */
    private static List<LayerClusters> coclusterNetworkLayers(Network network, int[] chosen, CircuitsRequest request) {
        dev.cleave.nn.Arch arch = network.arch();
        CoClusterOptions options = CoClusterOptions.defaults().withK(request.k()).withVariant(CoClusterVariant.JOINT)
                .withSeed(request.seed()).withThreads(request.device().threads()).withBackend(request.device());
        List<LayerClusters> out = new ArrayList<>();
        for (int l : chosen) {
            dev.cleave.nn.Layer layer = arch.layers().get(l);
            float[] w = tensorOf(network, l, "weight");
            try {
                if (layer instanceof dev.cleave.nn.Layer.Conv2d conv) {
                    int in = arch.shape(l).channels();
                    dev.cleave.graph.CnnLayer cl = dev.cleave.graph.CnnLayer.conv(conv.outChannels(), in, conv.kernel(), conv.kernel(), w);
                    if (l + 1 < arch.layers().size() && arch.layers().get(l + 1) instanceof dev.cleave.nn.Layer.BatchNorm2d) {
                        cl = cl.withBatchNorm(tensorOf(network, l + 1, "weight"), tensorOf(network, l + 1, "running_var"),
                                dev.cleave.nn.Layer.BatchNorm2d.EPS);
                    }
                    out.add(ChannelClusters.cocluster(l, cl, dev.cleave.graph.SliceNorm.L1, request.k(), false, request.seed(),
                            request.device()));
                } else {
                    int outF = ((dev.cleave.nn.Layer.Linear) layer).outFeatures();
                    CoClusterResult r = CoClustering.cocluster(new FloatMatrix(outF, w.length / outF, w), options);
                    out.add(new LayerClusters(l, request.k(), r.rowLabels(), r.columnLabels()));
                }
            } catch (InvalidInputException e) {
                throw new InvalidInputException(request.model() + ", " + layerName(arch, l) + " (layers." + l + "): " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static float[] tensorOf(Network network, int layer, String name) {
        String full = "layers." + layer + "." + name;
        return network.tensors().stream().filter(n -> n.name().equals(full)).findFirst().orElseThrow().tensor().toArray();
    }

    /** Co-clusters a model's hidden-to-hidden layers for circuits, on the request's device, k-means++ restarts as default. */
    private static List<LayerClusters> coclusterHidden(ModelFile.Loaded loaded, CircuitsRequest request) {
        List<FloatMatrix> weights = loaded.model().weightMatrices();
        int n = weights.size();
        if (n < 3) {
            throw new InvalidInputException(request.model() + " has " + n + " weight layer" + (n == 1 ? "" : "s")
                    + " and no hidden-to-hidden weights to co-cluster: co-cluster it with 'cleave cocluster " + request.model()
                    + " --layers all --out FILE' and give --clusters FILE");
        }
        ImmutableIntList hidden = LayerSelection.indices("hidden", n, "--layers");
        LayerSelection.requireClustersFit(hidden, weights, request.k(), "--k");
        CoClusterOptions options = CoClusterOptions.defaults().withK(request.k()).withVariant(CoClusterVariant.JOINT)
                .withSeed(request.seed()).withThreads(request.device().threads()).withBackend(request.device());
        return coclusterLayers(request.model(), weights, loaded.weightNames(), hidden, options, new ArrayList<>());
    }

    /** The clusters of a {@code cleave cocluster --out} file. */
    static List<LayerClusters> readClusters(Path file) {
        CoclusterRun co = Results.read(file, CoclusterRun.class);
        if (co == null) {
            throw new InvalidInputException(file + ": no such file (write it with cleave cocluster --out)");
        }
        if (co.clusters().isEmpty()) {
            throw new InvalidInputException(file + ": no \"clusters\" list (write it with cleave cocluster --out)");
        }
        return co.clusters();
    }

    private static List<FloatMatrix> weights(Path modelFile) {
        try (ModelFile.Loaded loaded = ModelFile.load(modelFile)) {
            return loaded.model().weightMatrices();
        }
    }

    static int[] sizes(int[] labels, int k) {
        int[] s = new int[k];
        for (int v : labels) {
            s[v]++;
        }
        return s;
    }

    /** The mean of a square matrix's finite off-diagonal entries; NaN when there are none. */
    static double meanOffDiagonal(double[][] m) {
        double s = 0;
        int n = 0;
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m.length; j++) {
                if (i != j && Double.isFinite(m[i][j])) {
                    s += m[i][j];
                    n++;
                }
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
