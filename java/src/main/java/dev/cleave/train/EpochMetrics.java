package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * One line of metrics.jsonl and of {@code --json} output: what one epoch did.
 *
 * @param phase          "train", or "prune" in the pruning fine-tuning phase
 * @param clusterability C of each clustered layer's weight ("layers.N.weight"), once clusters are assigned
 * @param sparsity       fraction of zero weights over all layers, in the pruning phase
 * @param spectral       mean value of the spectral regulariser over the epoch's steps, when it is on
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EpochMetrics(
        @JsonProperty("epoch") int epoch,
        @JsonProperty("phase") String phase,
        @JsonProperty("train_loss") double trainLoss,
        @JsonProperty("test_loss") double testLoss,
        @JsonProperty("test_accuracy") double testAccuracy,
        @JsonProperty("seconds") double seconds,
        @JsonProperty("samples_per_s") double samplesPerSecond,
        @JsonProperty("clusterability") Map<String, Double> clusterability,
        @JsonProperty("sparsity") Double sparsity,
        @JsonProperty("spectral") Double spectral) {}
