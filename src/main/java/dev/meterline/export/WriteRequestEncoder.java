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

    /**
     * Adds one time series of one sample whose labels are already encoded as {@code Label} messages: {@code labels}
     * {@code [0, nameAt)}, then the message {@code name} ({@code __name__}), then {@code [nameAt, quantileAt)}, then
     * the message {@code quantile} unless null, then {@code [quantileAt, end)} — together in name order.
     */
    void add(byte[] labels, int nameAt, int quantileAt, int end, byte[] name, byte[] quantile, long timestamp,
             double value) {
        int s = sampleSize(timestamp);
        int tsSize = end + name.length + (quantile == null ? 0 : quantile.length) + 1 + varintSize(s) + s;
        ensure(1 + varintSize(tsSize) + tsSize);
        byte[] b = buf;
        b[pos++] = TIMESERIES;
        varint(tsSize);
        System.arraycopy(labels, 0, b, pos, nameAt);
        pos += nameAt;
        System.arraycopy(name, 0, b, pos, name.length);
        pos += name.length;
        System.arraycopy(labels, nameAt, b, pos, quantileAt - nameAt);
        pos += quantileAt - nameAt;
        if (quantile != null) {
            System.arraycopy(quantile, 0, b, pos, quantile.length);
            pos += quantile.length;
        }
        System.arraycopy(labels, quantileAt, b, pos, end - quantileAt);
        pos += end - quantileAt;
        b[pos++] = SAMPLE;
        varint(s);
        b[pos++] = SAMPLE_VALUE;
        long bits = Double.doubleToRawLongBits(value);
        for (int i = 0; i < 8; i++) {
            b[pos++] = (byte) (bits >>> (8 * i));
        }
        b[pos++] = SAMPLE_TIMESTAMP;
        varint(timestamp);
        series++;
        samples++;
    }

    /** One {@code Label} message, tag and length included, as the encoded labels above hold it. */
    static byte[] label(byte[] name, byte[] value) {
        LabelBuffer one = new LabelBuffer();
        labelInto(one, name, value);
        return Arrays.copyOf(one.bytes, one.length);
    }

    /** Appends the {@code Label} message of {@code name} and {@code value} to {@code out}. */
    static void labelInto(LabelBuffer out, byte[] name, byte[] value) {
        int size = labelSize(name, value);
        out.ensure(1 + varintSize(size) + size);
        byte[] b = out.bytes;
        int p = out.length;
        b[p++] = LABEL;
        p = putVarint(b, p, size);
        b[p++] = LABEL_NAME;
        p = putVarint(b, p, name.length);
        System.arraycopy(name, 0, b, p, name.length);
        p += name.length;
        b[p++] = LABEL_VALUE;
        p = putVarint(b, p, value.length);
        System.arraycopy(value, 0, b, p, value.length);
        p += value.length;
        out.length = p;
    }

    /** A growing array of encoded {@code Label} messages. */
    static final class LabelBuffer {
        byte[] bytes = new byte[256];
        int length;

        void ensure(int more) {
            if (length + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
            }
        }
    }

    private static int putVarint(byte[] b, int p, long v) {
        while ((v & ~0x7FL) != 0) {
            b[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        b[p++] = (byte) v;
        return p;
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
        pos = putVarint(buf, pos, v);
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
