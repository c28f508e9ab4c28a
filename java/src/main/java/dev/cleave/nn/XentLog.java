package dev.cleave.nn;

import dev.cleave.nativ.NativeStatus;
import org.bytedeco.javacpp.DoublePointer;

/**
 * Where {@link Backend#softmaxXentRecord} leaves the loss of each training step: {@code capacity}
 * records in the backend's memory (device memory on cuda), so a step needs no host round trip,
 * read back together every few steps with one copy ({@link #read}). A record holds the loss sum
 * and correct count of the batch's good rows and its first bad rows, which {@link Record#check()}
 * turns into the exceptions {@link Backend#softmaxXent} throws. Not thread-safe.
 */
public final class XentLog implements AutoCloseable {
    /** Doubles per record (CLEAVE_XENT_RECORD of cleave_cpu.h and cleave_cuda.h). */
    public static final int DOUBLES = 5;

    private final int capacity;
    private final DeviceMemory device; // null: the records are in host memory
    private final DoublePointer host;  // the records (host backends), or where read() downloads them
    private final long deviceAddress;

    XentLog(int capacity, DeviceMemory device) {
        if (capacity < 1) {
            throw new IllegalArgumentException("an XentLog needs at least one record, got " + capacity);
        }
        this.capacity = capacity;
        this.device = device;
        this.host = new DoublePointer((long) capacity * DOUBLES);
        this.deviceAddress = device == null ? 0 : device.allocate(8L * DOUBLES * capacity);
    }

    public int capacity() {
        return capacity;
    }

    /** Whether the records live in device memory. */
    public boolean onDevice() {
        return device != null;
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= capacity) {
            throw new IllegalArgumentException("slot " + slot + " is outside [0, " + capacity + ")");
        }
    }

    /** The device address of record {@code slot} (device logs only). */
    long deviceAddress(int slot) {
        checkSlot(slot);
        return deviceAddress + 8L * DOUBLES * slot;
    }

    /** Record {@code slot} in host memory (host logs only), for the host kernels to write. */
    DoublePointer hostRecord(int slot) {
        checkSlot(slot);
        return new DoublePointer(host).position((long) DOUBLES * slot);
    }

    /** Records 0 .. count-1, in slot order (one copy from the device). */
    public Record[] read(int count) {
        if (count < 0 || count > capacity) {
            throw new IllegalArgumentException("cannot read " + count + " records of " + capacity);
        }
        if (device != null && count > 0) {
            device.download(host, deviceAddress, 8L * DOUBLES * count);
        }
        Record[] out = new Record[count];
        for (int i = 0; i < count; i++) {
            long o = (long) DOUBLES * i;
            out[i] = new Record(host.get(o), (int) host.get(o + 1), (int) host.get(o + 2), (int) host.get(o + 3),
                    (int) host.get(o + 4));
        }
        return out;
    }

    /** One step's softmax_xent: its sums over the good rows and the first bad rows (-1: none). */
    public record Record(double lossSum, int correct, int badLabelRow, int badLabel, int nonfiniteRow) {
        /**
         * Throws what {@link Backend#softmaxXent} throws on the first bad row of the batch (a bad
         * label is bad input, a non-finite logit an {@link ArithmeticException}); nothing when
         * every row was good. {@code classes}: the logits' width, for the message.
         */
        public void check(int classes) {
            if (badLabelRow >= 0 && (nonfiniteRow < 0 || badLabelRow <= nonfiniteRow)) {
                throw NativeStatus.exception(NativeStatus.INVALID_ARGUMENT.code(), "softmax_xent: label " + badLabel
                        + " of row " + badLabelRow + " is outside [0, " + classes + ")");
            }
            if (nonfiniteRow >= 0) {
                throw NativeStatus.exception(NativeStatus.NUMERIC_FAILURE.code(), "softmax_xent: row " + nonfiniteRow
                        + " has a non-finite logit (the network diverged: lower the learning rate)");
            }
        }
    }

    @Override
    public void close() {
        if (device != null) {
            device.free(deviceAddress);
        }
        host.close();
    }
}
