package dev.cleave.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/** {@link NetworkPass#valuesPerImage}, the training memory check's activation count, is what a pass allocates. */
class NetworkPassMemoryTest {

    @Test
    void valuesPerImageMatchTheBuffersAPassAllocates() {
        String[][] cases = {{"f21-cnn", "mnist"}, {"f21-cnn-dropout", "mnist"}, {"g24-cnn", "cifar"}, {"g25-cnn", "cifar"},
                {"f21-mlp", "mnist"}, {"conv:8:k5:s2,relu,bn,maxpool,dropout:0.25,flatten,linear:10", "mnist"},
                {"bn,conv:4,relu,flatten,linear:10", "mnist"}, {"vgg16-cifar", "cifar"}};
        try (CpuBackend cpu = new CpuBackend(1)) {
            for (String[] c : cases) {
                Arch arch = Arch.parse(c[0], c[1].equals("mnist") ? ArchTest.MNIST : ArchTest.CIFAR);
                long trainable = 0;
                try (Network net = Network.glorotUniform(arch, 1)) {
                    for (Network.Named t : net.tensors()) {
                        trainable += t.spec().role().trainable() ? (long) t.tensor().rows() * t.tensor().cols() : 0;
                    }
                    for (int batch : new int[] {1, 64}) {
                        long before = Pointer.totalBytes();
                        long allocated;
                        try (NetworkPass pass = new NetworkPass(cpu, net, batch)) {
                            allocated = Pointer.totalBytes() - before;
                        }
                        long labels = 4L * batch;
                        assertEquals(4 * (batch * NetworkPass.valuesPerImage(arch) + trainable + batchnormStatistics(arch)) + labels,
                                allocated,
                                c[0] + " batch " + batch);
                    }
                }
            }
        }
    }

    /** Each batchnorm's saved batch mean and inverse standard deviation, per channel. */
    private static long batchnormStatistics(Arch arch) {
        long values = 0;
        for (int i = 0; i < arch.layers().size(); i++) {
            values += arch.layers().get(i) instanceof Layer.BatchNorm2d ? 2L * arch.shape(i).channels() : 0;
        }
        return values;
    }
}
