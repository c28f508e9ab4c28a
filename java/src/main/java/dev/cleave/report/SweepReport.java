package dev.cleave.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cleave.io.Json;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Versions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.CategoryChart;

/**
 * The report of a sweep folder (written by {@code cleave sweep}: its sweep.json): the aggregate
 * over seeds per variant and phase in F21's layout, beside the published numbers when the spec
 * has them, and per phase a chart of trained vs shuffled n-cut per variant with error bars (sd
 * over seeds).
 */
final class SweepReport {
    static final String SWEEP_FILE = "sweep.json";
    private static final String[] PHASES = {"unpruned", "pruned"};

    private SweepReport() {}

    /** Whether {@code dir} is a sweep folder. */
    static boolean isSweep(Path dir) {
        return Files.isRegularFile(dir.resolve(SWEEP_FILE));
    }

    static String render(Path dir) {
        JsonNode sweep;
        try {
            sweep = Json.mapper().readTree(Files.readString(dir.resolve(SWEEP_FILE)));
        } catch (IOException e) {
            throw new InvalidInputException(dir.resolve(SWEEP_FILE) + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (!"cleave-sweep-v1".equals(sweep.path("format").asText())) {
            throw new InvalidInputException(dir.resolve(SWEEP_FILE) + ": not a cleave sweep file (format "
                    + sweep.path("format") + ")");
        }
        JsonNode published = sweep.path("published");
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cleave sweep ")
                .append(Report.esc(sweep.path("name").asText())).append("</title>\n<style>")
                .append("body{font-family:sans-serif;margin:2em;max-width:1250px;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}")
                .append("th{background:#f0f0f0}td.l,th.l{text-align:left}.bad{color:#b2182b}")
                .append("h2{border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:2em}</style></head><body>\n");
        h.append("<h1>Sweep ").append(Report.esc(sweep.path("name").asText())).append("</h1>\n<p>")
                .append(sweep.path("cells").asInt()).append(" cells (").append(sweep.path("seeds").asInt())
                .append(" seeds per variant); k = ").append(sweep.path("measure").path("k").asInt()).append(", ")
                .append(sweep.path("measure").path("shuffles").asInt()).append(" ")
                .append(Report.esc(sweep.path("measure").path("method").asText().toLowerCase(Locale.ROOT)))
                .append(" shuffles per phase. Written by Cleave ").append(Report.esc(Versions.cleave()))
                .append("; the per-cell rows are in results.csv, the run folders in cells/.</p>\n");
        h.append("<h2>Aggregate over seeds</h2>\n<p>Each cell: trained n-cut, shuffled mean &plusmn; sd, z, test accuracy "
                + "(means over seeds).").append(published.isEmpty() ? "" : " Published: the spec's numbers; "
                + "&Delta; n-cut = ours &minus; published; <span class=\"bad\">red</span>: z of the other sign or n-cut more than 0.3 away.")
                .append("</p>\n<table><tr><th class=\"l\">variant</th>");
        List<String> phases = new ArrayList<>();
        for (String p : PHASES) {
            boolean measured = false;
            for (JsonNode a : sweep.path("aggregate")) {
                measured |= a.path("phase").asText().equals(p);
            }
            if (measured) {
                phases.add(p);
                h.append("<th>").append(p).append("</th>");
                if (!published.isEmpty()) {
                    h.append("<th>").append(p).append(", published</th><th>&Delta; n-cut</th>");
                }
            }
        }
        h.append("</tr>\n");
        List<String> variants = new ArrayList<>();
        for (JsonNode a : sweep.path("aggregate")) {
            if (!variants.contains(a.path("variant").asText())) {
                variants.add(a.path("variant").asText());
            }
        }
        for (String v : variants) {
            h.append("<tr><td class=\"l\">").append(Report.esc(v)).append("</td>");
            for (String p : phases) {
                JsonNode a = find(sweep, v, p);
                h.append("<td>").append(a == null ? "-" : cell(a.path("ncut"), a.path("shuffled_mean"), a.path("shuffled_sd"),
                        a.path("z"), a.path("accuracy"))).append("</td>");
                if (!published.isEmpty()) {
                    JsonNode pub = published.path(v).path(p);
                    if (pub.isMissingNode() || a == null) {
                        h.append("<td>-</td><td>-</td>");
                    } else {
                        h.append("<td>").append(cell(pub.path("ncut"), pub.path("shuffled_mean"), pub.path("shuffled_sd"),
                                pub.path("z"), pub.path("accuracy"))).append("</td>");
                        double d = a.path("ncut").asDouble() - pub.path("ncut").asDouble();
                        boolean signDiffers = a.path("z").isNumber() && pub.path("z").isNumber()
                                && Math.signum(a.path("z").asDouble()) != Math.signum(pub.path("z").asDouble());
                        boolean bad = signDiffers || Math.abs(d) > 0.3;
                        h.append("<td").append(bad ? " class=\"bad\"" : "").append(">")
                                .append(pub.path("ncut").isNumber() ? String.format(Locale.ROOT, "%+.3f", d) : "-")
                                .append(signDiffers ? " (z sign)" : "").append("</td>");
                    }
                }
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n<h2>Trained vs shuffled n-cut</h2>\n<p>Means over seeds; error bars: sd over seeds.</p>\n");
        for (String p : phases) {
            CategoryChart c = Charts.bars("n-cut, " + p, "variant", "n-cut");
            List<Double> trained = new ArrayList<>(), trainedSd = new ArrayList<>(), shuffled = new ArrayList<>(),
                    shuffledSd = new ArrayList<>(), pubTrained = new ArrayList<>(), pubShuffled = new ArrayList<>(),
                    zeros = new ArrayList<>();
            boolean anyPublished = false;
            for (String v : variants) {
                JsonNode a = find(sweep, v, p);
                trained.add(a == null ? 0 : a.path("ncut").asDouble());
                trainedSd.add(a == null ? 0 : a.path("ncut_sd_over_seeds").asDouble());
                shuffled.add(a == null ? 0 : a.path("shuffled_mean").asDouble());
                shuffledSd.add(a == null ? 0 : a.path("shuffled_mean_sd_over_seeds").asDouble());
                JsonNode pub = published.path(v).path(p);
                anyPublished |= pub.path("ncut").isNumber();
                pubTrained.add(pub.path("ncut").asDouble());
                pubShuffled.add(pub.path("shuffled_mean").asDouble());
                zeros.add(0.0);
            }
            c.addSeries("trained", variants, trained, trainedSd);
            if (sweep.path("measure").path("shuffles").asInt() > 0) {
                c.addSeries("shuffled", variants, shuffled, shuffledSd);
            }
            if (anyPublished) {
                c.addSeries("published trained", variants, pubTrained, zeros);
                c.addSeries("published shuffled", variants, pubShuffled, zeros);
            }
            c.getStyler().setErrorBarsColor(java.awt.Color.BLACK);
            h.append("<img alt=\"n-cut ").append(p).append("\" src=\"").append(Charts.png(c)).append("\">\n");
        }
        h.append("</body></html>\n");
        return h.toString();
    }

    private static JsonNode find(JsonNode sweep, String variant, String phase) {
        for (JsonNode a : sweep.path("aggregate")) {
            if (a.path("variant").asText().equals(variant) && a.path("phase").asText().equals(phase)) {
                return a;
            }
        }
        return null;
    }

    private static String cell(JsonNode ncut, JsonNode mean, JsonNode sd, JsonNode z, JsonNode acc) {
        return String.format(Locale.ROOT, "%s, %s &plusmn; %s, %s, %s", num(ncut, "%.3f"), num(mean, "%.3f"), num(sd, "%.3f"),
                num(z, "%+.2f"), num(acc, "%.3f"));
    }

    private static String num(JsonNode n, String format) {
        return n.isNumber() ? String.format(Locale.ROOT, format, n.asDouble()) : "-";
    }
}
