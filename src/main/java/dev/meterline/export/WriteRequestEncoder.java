package dev.meterline.export;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes a Prometheus remote write 1.0 {@code WriteRequest} by hand: {@code WriteRequest{repeated TimeSeries
 * timeseries = 1}}, {@code TimeSeries{repeated Label labels = 1; repeated Sample samples = 2}}, {@code Label{string
 * name = 1; string value = 2}}, {@code Sample{double value = 1; int64 timestamp = 2}}. Label names must come
 * sorted and samples in time order; the caller guarantees both.
 */
final class WriteRequestEncoder {

    private static final int TIMESERIES = 1 << 3 | 2;
    private static final int LABEL = 1 << 3 | 2;
    private static final int SAMPLE = 2 << 3 | 2;
    private static final int LABEL_NAME = 1 << 3 | 2;
    private static final int LABEL_VALUE = 2 << 3 | 2;
    private static final int SAMPLE_VALUE = 1 << 3 | 1;
    private static final int SAMPLE_TIMESTAMP = 2 << 3;

    private byte[] buf;
    private int pos;
    private int series;
    private int samples;

    WriteRequestEncoder(int initialBytes) {
        buf = new byte[Math.max(64, initialBytes)];
    }

    /** Drops everything added, keeping the buffer. */
    void reset() {
        pos = 0;
        series = 0;
        samples = 0;
    }

    /**
     * Adds one time series: {@code labels} holds name and value in turn, names sorted (with {@code __name__} among
     * them); {@code timestamps} (epoch ms, ascending) and {@code values} pair up.
     */
    void add(byte[][] labels, long[] timestamps, double[] values) {
        if (labels.length % 2 != 0 || timestamps.length != values.length) {
            throw new IllegalArgumentException("labels: " + labels.length + " parts, " + timestamps.length
                    + " timestamps, " + values.length + " values (expected: name/value pairs, one value per timestamp)");
        }
        int labelsSize = 0;
        for (int i = 0; i < labels.length; i += 2) {
            int l = labelSize(labels[i], labels[i + 1]);
            labelsSize += 1 + varintSize(l) + l;
        }
        int samplesSize = 0;
        for (long t : timestamps) {
            int s = sampleSize(t);
            samplesSize += 1 + varintSize(s) + s;
        }
        int tsSize = labelsSize + samplesSize;
        ensure(1 + varintSize(tsSize) + tsSize);
        buf[pos++] = TIMESERIES;
        varint(tsSize);
        for (int i = 0; i < labels.length; i += 2) {
            buf[pos++] = LABEL;
            varint(labelSize(labels[i], labels[i + 1]));
            bytesField(LABEL_NAME, labels[i]);
            bytesField(LABEL_VALUE, labels[i + 1]);
        }
        for (int i = 0; i < timestamps.length; i++) {
            buf[pos++] = SAMPLE;
            varint(sampleSize(timestamps[i]));
            buf[pos++] = SAMPLE_VALUE;
            long bits = Double.doubleToRawLongBits(values[i]);
            for (int b = 0; b < 8; b++) {
                buf[pos++] = (byte) (bits >>> (8 * b));
            }
            buf[pos++] = SAMPLE_TIMESTAMP;
            varint(timestamps[i]);
        }
        series++;
        samples += timestamps.length;
    }

    /** One series of one sample. */
    void add(byte[][] labels, long timestamp, double value) {
        add(labels, new long[]{timestamp}, new double[]{value});
    }

    int series() {
        return series;
    }

    int samples() {
        return samples;
    }

    /** The encoded bytes so far are {@code [0, length())} of {@link #array()}. */
    byte[] array() {
        return buf;
    }

    int length() {
        return pos;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static int labelSize(byte[] name, byte[] value) {
        return 1 + varintSize(name.length) + name.length + 1 + varintSize(value.length) + value.length;
    }

    private static int sampleSize(long timestamp) {
        return 1 + 8 + 1 + varintSize(timestamp);
    }

    private void bytesField(int tag, byte[] b) {
        buf[pos++] = (byte) tag;
        varint(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }

    private void varint(long v) {
        while ((v & ~0x7FL) != 0) {
            buf[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[pos++] = (byte) v;
    }

    static int varintSize(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    private void ensure(int more) {
        if (pos + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
        }
    }
}
