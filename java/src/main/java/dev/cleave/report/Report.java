package dev.cleave.report;

import dev.cleave.circuits.AblationResult;
import dev.cleave.io.AtomicFiles;
import dev.cleave.modular.LayerClusters;
import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.pipeline.ClusterRun;
import dev.cleave.pipeline.CoclusterRun;
import dev.cleave.pipeline.Provenance;
import dev.cleave.pipeline.ShuffleSummary;
import dev.cleave.train.EpochMetrics;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Versions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.eclipse.collections.impl.list.mutable.primitive.DoubleArrayList;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.XYChart;

/**
 * {@code cleave report}: one self-contained HTML file (no network, no scripts; charts are
 * embedded PNGs) comparing one or more training runs: training curves, clustered weight
 * matrices reordered by cluster, eigenvalue spectra, shuffle tests, cluster ablations,
 * effective circuit sizes, and a table of key numbers with the commands that produced them.
 */
public final class Report {
    private final List<RunData> runs;
    private final StringBuilder html = new StringBuilder();

    private Report(List<RunData> runs) {
        this.runs = runs;
    }

    /** Reads the run folders and writes the report to {@code out}, atomically. */
    public static void write(List<Path> runDirs, Path out) throws IOException {
        if (runDirs.isEmpty()) {
            throw new InvalidInputException("cleave report needs at least one run folder");
        }
        if (runDirs.size() == 1 && SweepReport.isSweep(runDirs.get(0))) {
            AtomicFiles.writeString(out, SweepReport.render(runDirs.get(0))); // a sweep folder (cleave sweep)
            return;
        }
        List<RunData> runs = new ArrayList<>();
        for (Path dir : runDirs) {
            runs.add(RunData.load(dir));
        }
        String page = new Report(runs).render();
        AtomicFiles.writeString(out, page);
    }

    String render() {
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cleave report</title>\n<style>")
                .append("body{font-family:sans-serif;margin:2em;max-width:1250px;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}")
                .append("th{background:#f0f0f0}td.l,th.l{text-align:left}code{font-size:90%;background:#f6f6f6;padding:1px 3px}")
                .append(".row{display:flex;flex-wrap:wrap;gap:16px}.fig{margin:8px 0}.fig p{margin:2px 0;font-size:90%}")
                .append("h2{border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:2em}</style></head><body>\n");
        html.append("<h1>Cleave report</h1>\n<p>").append(runs.size()).append(" run(s), written ")
                .append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append(" by Cleave ")
                .append(esc(Versions.cleave())).append(".</p>\n");
        keyNumbers();
        trainingCurves();
        weightMatrices();
        unitGraphs();
        spectra();
        shuffleTests();
        ablations();
        circuitSizes();
        html.append("</body></html>\n");
        return html.toString();
    }

    private void keyNumbers() {
        html.append("<h2 id=\"numbers\">Key numbers</h2>\n<table><tr><th class=\"l\">run</th><th>test accuracy</th>")
                .append("<th>C per clustered layer</th><th>n-cut</th><th>shuffled n-cut</th><th>z</th><th>p</th>")
                .append("<th>mean ECS</th><th>specialisation</th></tr>\n");
        for (RunData r : runs) {
            EpochMetrics last = r.last();
            html.append("<tr><td class=\"l\">").append(esc(r.name())).append("</td><td>")
                    .append(last == null ? "-" : fmt(last.testAccuracy(), 4)).append("</td><td>")
                    .append(last != null && last.clusterability() != null ? esc(formatC(last.clusterability())) : coclusterC(r))
                    .append("</td>");
            ShuffleSummary shuffle = r.cluster() == null ? null : r.cluster().shuffle();
            html.append("<td>").append(r.cluster() == null ? "-" : fmt(r.cluster().result().ncut(), 3)).append("</td><td>")
                    .append(shuffle == null ? "-" : fmt(shuffle.mean(), 3) + " &plusmn; " + fmt(shuffle.sd(), 3))
                    .append("</td><td>").append(shuffle == null ? "-" : num(shuffle.z(), 2)).append("</td><td>")
                    .append(shuffle == null ? "-" : fmt(shuffle.p(), 4))
                    .append("</td><td>").append(r.circuits() == null ? "-" : num(r.circuits().meanEcs(), 4)).append("</td><td>")
                    .append(r.circuits() == null ? "-" : fmt(r.circuits().ablation().specialisation(), 3))
                    .append("</td></tr>\n");
        }
        html.append("</table>\n<p>Commands that produced these numbers:</p>\n<ul>\n");
        for (RunData r : runs) {
            html.append("<li><b>").append(esc(r.name())).append("</b>: <code>").append(esc(r.config().commandLine()))
                    .append(" --out ").append(esc(r.dir().toString())).append("</code>");
            for (String command : commands(r)) {
                html.append("<br><code>").append(esc(command)).append("</code>");
            }
            html.append("</li>\n");
        }
        html.append("</ul>\n");
    }

    /**
     * The commands that produced a run's cluster, co-cluster and circuit numbers, each derived
     * from its record's provenance (files without one are left out).
     */
    static List<String> commands(RunData r) {
        List<String> out = new ArrayList<>();
        for (Provenance p : new Provenance[] {r.cluster() == null ? null : r.cluster().provenance(),
                r.cocluster() == null ? null : r.cocluster().provenance(), r.circuits() == null ? null : r.circuits().provenance()}) {
            if (p != null) {
                out.add(p.commandLine());
            }
        }
        return out;
    }

    /** C under the run's co-clusters (cleave cocluster), for runs trained without modular clusters. */
    private static String coclusterC(RunData r) {
        if (r.cocluster() == null || r.cocluster().layers().isEmpty()) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        for (CoclusterRun.Layer l : r.cocluster().layers()) {
            String layer = r.cnn() != null ? l.name().replace(".weight", "") : "layers." + l.layer();
            sb.append(sb.length() == 0 ? "" : ", ").append(layer).append(" ").append(fmt(l.c(), 3));
        }
        return esc(sb.toString()) + " (co-clusters)";
    }

    private void trainingCurves() {
        html.append("<h2 id=\"training\">Training curves</h2>\n<div class=\"row\">");
        XYChart loss = Charts.line("Loss", "epoch", "cross-entropy");
        XYChart acc = Charts.line("Test accuracy", "epoch", "accuracy");
        XYChart c = Charts.line("Clusterability C of clustered layers", "epoch", "C");
        boolean anyC = false;
        for (RunData r : runs) {
            if (r.metrics().isEmpty()) {
                continue;
            }
            double[] x = r.metrics().stream().mapToDouble(EpochMetrics::epoch).toArray();
            loss.addSeries(r.name() + " train", x, r.metrics().stream().mapToDouble(EpochMetrics::trainLoss).toArray());
            loss.addSeries(r.name() + " test", x, r.metrics().stream().mapToDouble(EpochMetrics::testLoss).toArray());
            acc.addSeries(r.name(), x, r.metrics().stream().mapToDouble(EpochMetrics::testAccuracy).toArray());
            TreeSet<String> layers = new TreeSet<>();
            r.metrics().stream().filter(m -> m.clusterability() != null).forEach(m -> layers.addAll(m.clusterability().keySet()));
            for (String layer : layers) {
                DoubleArrayList xs = new DoubleArrayList(), ys = new DoubleArrayList();
                for (EpochMetrics m : r.metrics()) {
                    if (m.clusterability() != null && m.clusterability().containsKey(layer)) {
                        xs.add(m.epoch());
                        ys.add(m.clusterability().get(layer));
                    }
                }
                c.addSeries(r.name() + " " + layer, xs.toArray(), ys.toArray());
                anyC = true;
            }
        }
        figure(Charts.png(loss), "Training and test cross-entropy per epoch.");
        figure(Charts.png(acc), "Test accuracy per epoch.");
        if (anyC) {
            figure(Charts.png(c), "C (share of each layer's squared weight mass inside its k diagonal blocks) once clusters are assigned.");
        }
        html.append("</div>\n");
    }

    private void weightMatrices() {
        TreeSet<Integer> layers = new TreeSet<>();
        runs.forEach(r -> r.clusters().forEach(c -> layers.add(c.layer())));
        html.append("<h2 id=\"weights\">Weight matrices</h2>\n");
        if (layers.isEmpty()) {
            html.append("<p>No run has clusters (train with --modular, or run cleave cocluster on a model).</p>\n");
            return;
        }
        html.append("<p>|W| of each clustered layer (out rows x in columns), darker = larger (scaled to the 99th percentile),"
                + " rows and columns reordered by each run's own clusters, red lines between clusters.");
        if (runs.stream().anyMatch(r -> r.cnn() != null)) {
            html.append(" A CNN's layer is shown as the matrix it was co-clustered on: a conv layer's out x in channel norms"
                    + " (the norm of each kernel slice K[j, i, :, :], batchnorm folded), the first dense layer's out x channels"
                    + " block norms, a later dense layer's |W|.");
        }
        html.append("</p>\n");
        for (int layer : layers) {
            RunData named = runs.stream().filter(r -> r.clustersOf(layer) != null).findFirst().orElse(runs.get(0));
            html.append("<h3>").append(esc(named.layerName(layer))).append("</h3>\n<div class=\"row\">");
            for (RunData r : runs) {
                if (layer >= r.weights().size()) {
                    continue;
                }
                FloatMatrix w = r.weights().get(layer);
                LayerClusters cl = r.clustersOf(layer);
                int[] rowOrder = cl == null ? identity(w.rows()) : orderBy(cl.rowLabels(), cl.k());
                int[] colOrder = cl == null ? identity(w.cols()) : orderBy(cl.colLabels(), cl.k());
                int[] rowBreaks = cl == null ? new int[0] : breaks(cl.rowLabels(), cl.k());
                int[] colBreaks = cl == null ? new int[0] : breaks(cl.colLabels(), cl.k());
                figure(Charts.weightImage(w.data(), w.rows(), w.cols(), rowOrder, colOrder, rowBreaks, colBreaks),
                        esc(r.name()) + (cl == null ? " (no clusters: original order)" : " (k = " + cl.k() + ")"));
            }
            html.append("</div>\n");
        }
    }

    /**
     * For each CNN cluster run: the unit matrices of the graph it clustered (rebuilt from the
     * model under the run's graph options), rows and columns reordered by the spectral clusters of
     * their units. Nothing at all when no run is a CNN cluster run.
     */
    private void unitGraphs() {
        List<RunData> cnnRuns = runs.stream().filter(r -> r.cnn() != null && r.cluster() != null && r.cluster().cnn()).toList();
        if (cnnRuns.isEmpty()) {
            return;
        }
        html.append("<h2 id=\"units\">CNN unit graph by cluster</h2>\n<p>Each matrix of the unit graph that was clustered"
                + " (out units as rows, in units as columns; a conv layer's entries are the norms of its kernel slices), rows"
                + " and columns reordered by the spectral clusters of their units, red lines between clusters, removed"
                + " (zero-degree) units last.</p>\n");
        for (RunData r : cnnRuns) {
            ClusterRun run = r.cluster();
            CnnUnitGraph graph = r.cnn().graph(run.cnnGraph());
            List<CnnUnitGraph.UnitLayer> unitLayers = graph.unitLayers();
            int[] labels = run.result().labels();
            int total = unitLayers.stream().mapToInt(CnnUnitGraph.UnitLayer::units).sum();
            html.append("<h3>").append(esc(r.name())).append(": ").append(esc(run.cnnGraph().edges().toString())).append(" graph, ")
                    .append(esc(run.cnnGraph().norm().toString())).append(" norm, k = ").append(run.result().k())
                    .append("</h3>\n");
            if (total != labels.length) {
                html.append("<p>The model's unit graph has ").append(total).append(" units but the cluster result labels ")
                        .append(labels.length).append(": the model changed after clustering; run cleave cluster again.</p>\n");
                continue;
            }
            html.append("<div class=\"row\">");
            List<FloatMatrix> matrices = graph.unitMatrices();
            int offset = 0;
            for (int m = 0; m < matrices.size(); m++) {
                FloatMatrix w = matrices.get(m);
                int[] colLabels = Arrays.copyOfRange(labels, offset, offset + w.cols());
                int[] rowLabels = Arrays.copyOfRange(labels, offset + w.cols(), offset + w.cols() + w.rows());
                offset += w.cols();
                int k = run.result().k();
                figure(Charts.weightImage(w.data(), w.rows(), w.cols(), orderByWithRemoved(rowLabels, k),
                        orderByWithRemoved(colLabels, k), breaks(kept(rowLabels), k), breaks(kept(colLabels), k)),
                        esc(unitLayers.get(m + 1).name() + " (" + w.rows() + ") x " + unitLayers.get(m).name() + " (" + w.cols()
                                + ")"));
            }
            html.append("</div>\n");
        }
    }

    /** {@link #orderBy} with the unlabelled (-1, removed) indices appended last. */
    static int[] orderByWithRemoved(int[] labels, int k) {
        int[] o = orderBy(labels, k); // the labelled indices first, by cluster; the rest not yet filled
        int p = (int) Arrays.stream(labels).filter(l -> l >= 0).count();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                o[p++] = i;
            }
        }
        return o;
    }

    private static int[] kept(int[] labels) {
        return Arrays.stream(labels).filter(l -> l >= 0).toArray();
    }

    private void spectra() {
        html.append("<h2 id=\"spectrum\">Eigenvalue spectrum</h2>\n");
        XYChart chart = Charts.line("Smallest eigenvalues of the normalized Laplacian", "index", "eigenvalue");
        boolean any = false;
        for (RunData r : runs) {
            if (r.cluster() != null) {
                double[] y = r.cluster().result().eigenvalues();
                double[] x = new double[y.length];
                for (int i = 0; i < x.length; i++) {
                    x[i] = i + 1;
                }
                chart.addSeries(r.name(), x, y);
                any = true;
            }
        }
        if (any) {
            figure(Charts.png(chart), "The k smallest eigenvalues of L = I - D^-1/2 A D^-1/2 of each network's graph.");
        } else {
            html.append("<p>No cluster results (run cleave cluster --json into cluster.json).</p>\n");
        }
    }

    private void shuffleTests() {
        html.append("<h2 id=\"shuffle\">Shuffle test</h2>\n<div class=\"row\">");
        boolean any = false;
        for (RunData r : runs) {
            ShuffleSummary shuffle = r.cluster() == null ? null : r.cluster().shuffle();
            if (shuffle == null) {
                continue;
            }
            double[] ncuts = shuffle.ncuts();
            double trained = r.cluster().result().ncut();
            CategoryChart chart = Charts.bars(r.name() + ": n-cut, trained vs shuffled", "n-cut", "shuffles");
            double lo = Math.min(trained, min(ncuts)), hi = Math.max(trained, max(ncuts));
            int bins = 20;
            double width = (hi - lo) / bins + 1e-12;
            List<String> labels = new ArrayList<>();
            int[] counts = new int[bins], mark = new int[bins];
            for (int b = 0; b < bins; b++) {
                labels.add(fmt(lo + (b + 0.5) * width, 3));
            }
            for (double v : ncuts) {
                counts[(int) Math.min(bins - 1, Math.floor((v - lo) / width))]++;
            }
            mark[(int) Math.min(bins - 1, Math.floor((trained - lo) / width))] = Math.max(1, ncuts.length / 10);
            // XChart takes a category series' values as a List<? extends Number>: boxed here, once
            chart.addSeries("shuffled (" + ncuts.length + ")", labels, Arrays.stream(counts).boxed().toList());
            chart.addSeries("trained network", labels, Arrays.stream(mark).boxed().toList());
            chart.getStyler().setOverlapped(true).setXAxisLabelRotation(60);
            figure(Charts.png(chart), esc(r.name()) + ": n-cut " + fmt(trained, 3) + " vs shuffled " + fmt(shuffle.mean(), 3)
                    + " &plusmn; " + fmt(shuffle.sd(), 3) + ", z = " + num(shuffle.z(), 2) + ", p = " + fmt(shuffle.p(), 4)
                    + " (" + esc(shuffle.method() == null ? "layer" : shuffle.method().toString()) + " shuffles)");
            any = true;
        }
        if (!any) {
            html.append("<p>No shuffle tests (cleave cluster --shuffles N --json into cluster.json).</p>");
        }
        html.append("</div>\n");
    }

    private void ablations() {
        html.append("<h2 id=\"ablation\">Cluster ablation</h2>\n<div class=\"row\">");
        boolean any = false;
        for (RunData r : runs) {
            AblationResult ab = r.circuits() == null ? null : r.circuits().ablation();
            if (ab == null) {
                continue;
            }
            double[][] off = ab.offDrop();
            List<String> labels = new ArrayList<>(), clusters = new ArrayList<>();
            for (int j = 0; j < off[0].length; j++) {
                labels.add(String.valueOf(j));
            }
            for (int c = 0; c < off.length; c++) {
                clusters.add("cluster " + c);
            }
            figure(Charts.png(Charts.heatMap(r.name() + ": accuracy drop when a cluster is off", labels, clusters, off, "label",
                    "cluster")), esc(r.name()) + ": test accuracy drop per label when each cluster is ablated (OFF); "
                    + "specialisation " + fmt(ab.specialisation(), 3) + "."
                    + (r.circuits().arch() == null ? "" : " Network " + esc(r.circuits().arch()) + "; clusters of layers "
                            + esc(Arrays.toString(ab.layers())) + " (" + esc(r.circuits().clustersFrom()) + ")."));
            any = true;
        }
        if (!any) {
            html.append("<p>No ablation results (cleave circuits --json into circuits.json).</p>");
        }
        html.append("</div>\n");
    }

    private void circuitSizes() {
        html.append("<h2 id=\"ecs\">Effective circuit size per label</h2>\n");
        CategoryChart chart = Charts.bars("Effective circuit size (fraction of weights kept)", "label", "ECS");
        boolean any = false;
        for (RunData r : runs) {
            double[] ecs = r.circuits() == null ? null : r.circuits().ecs();
            if (ecs != null && ecs.length > 0) {
                List<String> labels = new ArrayList<>();
                for (int i = 0; i < ecs.length; i++) {
                    labels.add(String.valueOf(i));
                }
                chart.addSeries(r.name(), labels, Arrays.stream(ecs).boxed().toList());
                any = true;
            }
        }
        if (any) {
            figure(Charts.png(chart), "Smaller means a smaller circuit suffices for that label."
                    + (runs.stream().anyMatch(r -> r.circuits() != null && r.circuits().arch() != null && r.circuits().ecs() != null)
                            ? " For a network with convolutions: the weights of its dense layers, the conv stack kept whole." : ""));
        } else {
            html.append("<p>No circuit results (cleave circuits --json into circuits.json).</p>\n");
        }
        CategoryChart channels = Charts.bars("Channel circuit size (fraction of conv channels kept)", "label", "ECS");
        boolean anyChannels = false;
        for (RunData r : runs) {
            double[] ecs = r.circuits() == null ? null : r.circuits().channelEcs();
            if (ecs != null && ecs.length > 0) {
                List<String> labels = new ArrayList<>();
                for (int i = 0; i < ecs.length; i++) {
                    labels.add(String.valueOf(r.circuits().channelEcsResult().circuits().get(i).label()));
                }
                channels.addSeries(r.name(), labels, Arrays.stream(ecs).boxed().toList());
                anyChannels = true;
            }
        }
        if (anyChannels) {
            figure(Charts.png(channels), "Effective circuit size over conv channels (cleave circuits --ecs-channels): the share "
                    + "of conv channels a label's circuit keeps, each channel kept or pruned as a whole.");
        }
    }

    private void figure(String dataUri, String caption) {
        html.append("<div class=\"fig\"><img alt=\"").append(esc(caption.replaceAll("<[^>]*>", ""))).append("\" src=\"")
                .append(dataUri).append("\"><p>").append(caption).append("</p></div>\n");
    }

    static int[] identity(int n) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) {
            o[i] = i;
        }
        return o;
    }

    /** Indices sorted by label (stable): cluster 0's first. */
    static int[] orderBy(int[] labels, int k) {
        int[] o = new int[labels.length];
        int p = 0;
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == c) {
                    o[p++] = i;
                }
            }
        }
        return o;
    }

    /** Positions (in the reordered axis) where a new cluster starts. */
    static int[] breaks(int[] labels, int k) {
        int[] counts = new int[k];
        for (int l : labels) {
            counts[l]++;
        }
        int[] b = new int[Math.max(0, k - 1)];
        int acc = 0;
        for (int c = 0; c + 1 < k; c++) {
            acc += counts[c];
            b[c] = acc;
        }
        return b;
    }

    private static double min(double[] a) {
        double m = Double.POSITIVE_INFINITY;
        for (double v : a) {
            m = Math.min(m, v);
        }
        return m;
    }

    private static double max(double[] a) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : a) {
            m = Math.max(m, v);
        }
        return m;
    }

    /** A value that may be missing (null: "-"). */
    private static String num(Double v, int digits) {
        return v == null ? "-" : fmt(v, digits);
    }

    private static String fmt(double v, int digits) {
        return String.format("%." + digits + "f", v);
    }

    private static String formatC(Map<String, Double> c) {
        StringBuilder sb = new StringBuilder();
        c.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k.replace(".weight", "")).append(" ").append(fmt(v, 3)));
        return sb.toString();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

}
