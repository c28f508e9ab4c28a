package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonProperty;

/** One line of metrics.jsonl and of {@code --json} output: what one epoch did. */
public record EpochMetrics(
        @JsonProperty("epoch") int epoch,
        @JsonProperty("train_loss") double trainLoss,
        @JsonProperty("test_loss") double testLoss,
        @JsonProperty("test_accuracy") double testAccuracy,
        @JsonProperty("seconds") double seconds,
        @JsonProperty("samples_per_s") double samplesPerSecond) {}
