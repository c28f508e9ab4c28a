package dev.cleave.circuits;

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
 *                     first, each row-major; see {@link #keptMask()}
 */
public record LabelCircuit(
        @JsonProperty("label") int label,
        @JsonProperty("images") int images,
        @JsonProperty("ecs") double ecs,
        @JsonProperty("kept") long kept,
        @JsonProperty("kept_per_layer") long[] keptPerLayer,
        @JsonProperty("baseline_loss") double baselineLoss,
        @JsonProperty("final_loss") double finalLoss,
        @JsonProperty("mask") byte[] mask) {

    public LabelCircuit {
        keptPerLayer = keptPerLayer.clone();
        mask = mask.clone();
    }

    @Override
    public long[] keptPerLayer() {
        return keptPerLayer.clone();
    }

    @Override
    public byte[] mask() {
        return mask.clone();
    }

    /** The kept-weight mask as a bit set (see {@link #mask()} for the bit order). */
    public BitSet keptMask() {
        return BitSet.valueOf(mask);
    }
}
