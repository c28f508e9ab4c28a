package dev.cleave.cluster;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * What clustering does with nodes of degree 0, where the normalized Laplacian is undefined.
 * {@link #DROP} (default): leave them out, label them -1 and list them in the result.
 * {@link #REJECT}: fail with an error naming them.
 */
public enum IsolatedNodes {
    @JsonProperty("drop") DROP,
    @JsonProperty("reject") REJECT;

    public static IsolatedNodes parse(String s) {
        return Enums.parse(IsolatedNodes.class, s, "isolated-nodes policy");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
