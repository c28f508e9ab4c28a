package dev.cleave.cli;

import dev.cleave.train.EpochMetrics;
import dev.cleave.train.TrainConfig;
import java.util.Map;

/** The human-readable line per epoch that train and demo print. */
final class EpochLine {
    private EpochLine() {}

    static String of(EpochMetrics m, TrainConfig config) {
        return String.format("epoch %d/%d%s  train loss %.4f  test loss %.4f  test accuracy %.4f  %.1f s  %.0f samples/s%s%s",
                m.epoch(), config.totalEpochs(), m.phase().equals("prune") ? " (prune)" : "", m.trainLoss(), m.testLoss(),
                m.testAccuracy(), m.seconds(), m.samplesPerSecond(),
                m.sparsity() == null ? "" : String.format("  sparsity %.3f", m.sparsity()),
                m.clusterability() == null ? "" : "  C " + formatC(m.clusterability()));
    }

    private static String formatC(Map<String, Double> c) {
        StringBuilder sb = new StringBuilder();
        c.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k.replace("layers.", "").replace(".weight", ""))
                .append("=").append(String.format("%.3f", v)));
        return sb.toString();
    }
}
