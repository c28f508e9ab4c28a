package dev.cleave.nn;

import java.util.List;
import org.bytedeco.javacpp.LongPointer;

/**
 * The host arrays adam_update_multi takes: the addresses of each tensor's w, g, m, v and mask (0
 * for none) and its size, for the cpu kernel (host addresses) and the CUDA one (device addresses)
 * alike. Closed after the call.
 */
final class TensorTable implements AutoCloseable {
    final LongPointer w, g, m, v, mask, n;

    TensorTable(List<Tensor> ws, List<Tensor> gs, List<Tensor> ms, List<Tensor> vs, List<Tensor> masks) {
        int count = ws.size();
        w = new LongPointer(Math.max(1, count));
        g = new LongPointer(Math.max(1, count));
        m = new LongPointer(Math.max(1, count));
        v = new LongPointer(Math.max(1, count));
        mask = new LongPointer(Math.max(1, count));
        n = new LongPointer(Math.max(1, count));
        for (int t = 0; t < count; t++) {
            w.put(t, address(ws.get(t)));
            g.put(t, address(gs.get(t)));
            m.put(t, address(ms.get(t)));
            v.put(t, address(vs.get(t)));
            mask.put(t, address(masks.get(t)));
            n.put(t, ws.get(t).size());
        }
    }

    private static long address(Tensor t) {
        return t == null ? 0 : t.pointer().address();
    }

    @Override
    public void close() {
        w.close();
        g.close();
        m.close();
        v.close();
        mask.close();
        n.close();
    }
}
