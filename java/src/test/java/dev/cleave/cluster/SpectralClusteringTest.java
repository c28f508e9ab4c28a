package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SpectralClusteringTest {
    @Test
    void untrainedGlorotMlpHasTheReferenceNcut() {
        double sum = 0;
        double[] nc = new double[5];
        for (int s = 0; s < 5; s++) {
            ClusterResult r = SpectralClustering.cluster(TestGraphs.glorot(TestGraphs.MLP, 100 + s), ClusterOptions.defaults().withSeed(s));
            nc[s] = r.ncut();
            sum += r.ncut();
            System.out.println(r + " it=" + r.iterations() + " apps=" + r.operatorApplications());
        }
        System.out.println(Arrays.toString(nc) + " mean " + sum / 5);
        assertEquals(10.30, sum / 5, 0.05);
    }
}
