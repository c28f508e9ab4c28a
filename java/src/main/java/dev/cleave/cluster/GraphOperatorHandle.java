package dev.cleave.cluster;

/** An {@link OperatorHandle} built from a {@link GraphOperator} it keeps (the Java and CUDA operators). */
abstract class GraphOperatorHandle implements OperatorHandle {
    final GraphOperator g;

    GraphOperatorHandle(GraphOperator g) {
        this.g = g;
    }

    @Override
    public int dim(int which) {
        return which == M ? g.half : g.n;
    }

    @Override
    public double flops() {
        return g.flops();
    }
}
