package dev.cleave.circuits;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.BitSet;

/**
 * One label's effective circuit: the weights the greedy search had to keep.
 *
 * @param label        the class
 * @param images       test images of that class the search used
 * @param ecs          effective circuit size: kept / searched weights, in [0, 1]
 * @param kept         weights left non-zero
 * @param keptPerLayer kept weights of each searched layer (same order as {@link EcsResult#layers()})
 * @param baselineLoss the unpruned model's mean cross-entropy on the images (circuit arithmetic)
 * @param finalLoss    the circuit's mean cross-entropy (never above baselineLoss)
 * @param mask         the kept-weight mask as {@link BitSet#toByteArray()} bytes (base64 in JSON):
 *                     bit {@code p} is the p-th weight of the searched layers taken first layer
 *                     first, each row-major; see {@link #keptMask()}. Null in a circuit
 *                     stored without it ({@link #withoutMask()}; left out of its JSON)
 */
public record LabelCircuit(
        @JsonProperty("label") int label,
        @JsonProperty("images") int images,
        @JsonProperty("ecs") double ecs,
        @JsonProperty("kept") long kept,
        @JsonProperty("kept_per_layer") long[] keptPerLayer,
        @JsonProperty("baseline_loss") double baselineLoss,
        @JsonProperty("final_loss") double finalLoss,
        @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("mask") byte[] mask) {

    public LabelCircuit {
        keptPerLayer = keptPerLayer.clone();
        mask = mask == null ? null : mask.clone();
    }

    /** This circuit without its mask (as result files store it: 50 KB of base64 per label). */
    public LabelCircuit withoutMask() {
        return new LabelCircuit(label, images, ecs, kept, keptPerLayer, baselineLoss, finalLoss, null);
    }

    @Override
    public long[] keptPerLayer() {
        return keptPerLayer.clone();
    }

    @Override
    public byte[] mask() {
        return mask == null ? null : mask.clone();
    }

    /** The kept-weight mask as a bit set (see {@link #mask()} for the bit order); it must be stored. */
    public BitSet keptMask() {
        if (mask == null) {
            throw new IllegalStateException("label " + label + "'s circuit was stored without its mask");
        }
        return BitSet.valueOf(mask);
    }
}
