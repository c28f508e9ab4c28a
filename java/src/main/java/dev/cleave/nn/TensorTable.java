package dev.cleave.nn;

import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;

/**
 * The host arrays adam_update_multi takes: the addresses of each tensor's w, g, m, v and mask (0
 * for none) and its size, for the cpu kernel (host addresses) and the CUDA one (device addresses)
 * alike. Either built for one call and closed after it, or kept by a backend and refilled with
 * {@link #set} at every call (no native allocation per training step).
 */
final class TensorTable implements AutoCloseable {
    private static final int COLUMNS = 6; // w, g, m, v, mask, n

    final LongPointer w, g, m, v, mask, n;
    private final int capacity;
    private final long[] held; // what the pointers hold, COLUMNS per tensor: only changed entries are written

    /** A table for up to {@code capacity} tensors, to fill with {@link #set}. */
    TensorTable(int capacity) {
        this.capacity = Math.max(1, capacity);
        w = new LongPointer(this.capacity);
        g = new LongPointer(this.capacity);
        m = new LongPointer(this.capacity);
        v = new LongPointer(this.capacity);
        mask = new LongPointer(this.capacity);
        n = new LongPointer(this.capacity);
        held = new long[COLUMNS * this.capacity];
        Arrays.fill(held, Long.MIN_VALUE); // no address or size: the first set writes every entry
    }

    TensorTable(List<Tensor> ws, List<Tensor> gs, List<Tensor> ms, List<Tensor> vs, List<Tensor> masks) {
        this(ws.size());
        set(ws, gs, ms, vs, masks);
    }

    int capacity() {
        return capacity;
    }

    /** Puts these tensors in rows 0 .. ws.size() - 1 (at most {@link #capacity()}). */
    void set(List<Tensor> ws, List<Tensor> gs, List<Tensor> ms, List<Tensor> vs, List<Tensor> masks) {
        int count = ws.size();
        if (count > capacity) {
            throw new IllegalArgumentException("a table of " + capacity + " tensors cannot hold " + count);
        }
        for (int t = 0; t < count; t++) {
            put(w, t, 0, address(ws.get(t)));
            put(g, t, 1, address(gs.get(t)));
            put(m, t, 2, address(ms.get(t)));
            put(v, t, 3, address(vs.get(t)));
            put(mask, t, 4, address(masks.get(t)));
            put(n, t, 5, ws.get(t).size());
        }
    }

    private void put(LongPointer column, int t, int k, long value) {
        int i = COLUMNS * t + k;
        if (held[i] != value) {
            column.put(t, value);
            held[i] = value;
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
