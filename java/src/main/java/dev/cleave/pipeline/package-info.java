/**
 * The analysis pipeline below the CLI: each step takes a typed request and returns a result
 * record that carries its provenance (the options, seed, device, threads and versions).
 *
 * <ul>
 * <li>{@link dev.cleave.pipeline.Pipeline#clusterModel} / {@link dev.cleave.pipeline.Pipeline#clusterGraph}
 * ({@link dev.cleave.pipeline.ClusterModelRequest}, {@link dev.cleave.pipeline.ClusterGraphRequest}):
 * spectral clustering, with the shuffle test for models (an MLP's neuron graph, or a CNN's unit
 * graph read by {@link dev.cleave.pipeline.CnnModel}); {@link dev.cleave.pipeline.ClusterRun}.
 * <li>{@link dev.cleave.pipeline.Pipeline#cocluster} ({@link dev.cleave.pipeline.CoclusterRequest}):
 * co-clusters of chosen layers and their C; {@link dev.cleave.pipeline.CoclusterRun}.
 * <li>{@link dev.cleave.pipeline.Pipeline#circuits} ({@link dev.cleave.pipeline.CircuitsRequest}):
 * cluster ablation and effective circuit sizes; {@link dev.cleave.pipeline.CircuitsRun}.
 * <li>{@link dev.cleave.pipeline.Demo}: the demo's sequence (train baseline and modular, cluster,
 * co-cluster, circuits), writing each run folder's result files.
 * <li>{@link dev.cleave.pipeline.Results}: the one writer and reader of the result files
 * (cluster.json, cocluster.json, circuits.json), through the record types;
 * {@link dev.cleave.pipeline.Provenance#commandLine()} derives the command that reproduces a result.
 * </ul>
 *
 * The CLI ({@code dev.cleave.cli}) parses options into requests, calls these steps and prints the
 * records; the report ({@code dev.cleave.report}) reads the records back. Nothing here parses
 * options, prints, or imports the CLI or the report.
 */
package dev.cleave.pipeline;
