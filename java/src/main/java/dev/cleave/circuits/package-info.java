/**
 * Are a model's modules interpretable? G24's and G25's cluster ablation and effective circuit size.
 *
 * <ul>
 * <li>{@link dev.cleave.circuits.ClusterAblation}: switch each cluster off (OFF) or keep it alone
 * (ON), measure per-label test accuracy, and score how specialised the clusters are
 * ({@link dev.cleave.circuits.AblationResult}).
 * <li>{@link dev.cleave.circuits.EffectiveCircuitSize}: the greedy, exact effective circuit of
 * each label, last layer to first, and the circuits' Jaccard overlaps
 * ({@link dev.cleave.circuits.EcsResult}, one {@link dev.cleave.circuits.LabelCircuit} per label).
 * <li>{@link dev.cleave.circuits.NetworkCircuits}: the same for networks with convolutions: the
 * ECS over the dense layers on the conv features, and over conv channels ({@code ClusterAblation}
 * ablates conv clusters as whole output channels).
 * <li>{@link dev.cleave.circuits.Jaccard}: the overlap measure both use.
 * </ul>
 *
 * Results are immutable records that round-trip through {@link dev.cleave.io.Json}; the model
 * passed in is never modified.
 */
package dev.cleave.circuits;
