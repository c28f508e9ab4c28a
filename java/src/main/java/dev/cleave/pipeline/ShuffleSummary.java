package dev.cleave.pipeline;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.cluster.ShuffleResult;

/**
 * The shuffle test as a cluster result file records it (field "shuffle"): the trained network's
 * clustering is the file's own result, so only the statistics and the shuffled n-cuts are kept.
 * See {@link ShuffleResult} for each field.
 */
public record ShuffleSummary(
        @JsonProperty("method") ShuffleMethod method,
        @JsonProperty("n") int n,
        @JsonProperty("mean") double mean,
        @JsonProperty("sd") double sd,
        @JsonProperty("z") Double z,
        @JsonProperty("p") double p,
        @JsonProperty("lower") int lower,
        @JsonProperty("seconds") double seconds,
        @JsonProperty("ncuts") double[] ncuts) {

    public ShuffleSummary {
        ncuts = ncuts.clone();
    }

    static ShuffleSummary of(ShuffleResult s) {
        return new ShuffleSummary(s.method(), s.n(), s.mean(), s.sd(), s.z(), s.p(), s.lower(), s.seconds(), s.ncuts());
    }

    @Override
    public double[] ncuts() {
        return ncuts.clone();
    }

    @Override
    public boolean equals(Object o) {
        return Results.sameJson(this, o);
    }

    @Override
    public int hashCode() {
        return Results.jsonHash(this);
    }
}
