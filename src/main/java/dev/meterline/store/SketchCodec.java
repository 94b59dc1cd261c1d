package dev.meterline.store;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import com.datadoghq.sketch.ddsketch.store.Store;
import dev.meterline.model.Aggregate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Turns {@link Aggregate#sketchBytes()} into the form {@link Aggregate#restore} decodes, DDSketch's own binary
 * encoding, which is what the {@code sketch} column holds.
 *
 * <p>Why: {@code sketchBytes()} currently returns DDSketch's protobuf form ({@code DDSketch.serialize()}), which
 * {@code restore} cannot read, and which is also about 70 times larger for a sparse window. Until the model writes
 * the encoding itself, protobuf input (it starts with field 1, the index mapping: byte {@code 0x0A}) is converted
 * here; input already in the encoding (it starts with the mapping flag {@code 0x02}) passes through unchanged.
 */
final class SketchCodec {

    private static final int MAX_BINS = Aggregate.MAX_BINS;

    private SketchCodec() {
    }

    static byte[] storable(byte[] sketchBytes) {
        if (sketchBytes.length == 0 || sketchBytes[0] != 0x0A) {
            return sketchBytes;
        }
        DDSketch sketch = fromProtobuf(sketchBytes);
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withDefaultInitialCapacity();
        try {
            sketch.encode(out, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a sketch", e);
        }
        return out.trimmedCopy();
    }

    /** Reads the DDSketch protobuf message: mapping (1), positive store (2), negative store (3), zero count (4). */
    private static DDSketch fromProtobuf(byte[] b) {
        Reader r = new Reader(b, 0, b.length);
        Store positive = new CollapsingLowestDenseStore(MAX_BINS);
        Store negative = new CollapsingLowestDenseStore(MAX_BINS);
        double gamma = Double.NaN;
        double zero = 0;
        while (r.more()) {
            int tag = (int) r.varint();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == 1 && wire == 2) {
                gamma = mappingGamma(r.sub());
            } else if ((field == 2 || field == 3) && wire == 2) {
                readStore(r.sub(), field == 2 ? positive : negative);
            } else if (field == 4 && wire == 1) {
                zero = r.fixedDouble();
            } else {
                r.skip(wire);
            }
        }
        double expected = (1 + Aggregate.RELATIVE_ACCURACY) / (1 - Aggregate.RELATIVE_ACCURACY);
        if (!Double.isNaN(gamma) && Math.abs(gamma - expected) > 1e-12) {
            throw new StoreException("sketch gamma " + gamma + " (expected: " + expected + ", the mapping of "
                    + Aggregate.RELATIVE_ACCURACY + " relative accuracy)");
        }
        // DDSketch.of takes the negative store before the positive one.
        return DDSketch.of(new LogarithmicMapping(Aggregate.RELATIVE_ACCURACY), negative, positive, zero);
    }

    private static double mappingGamma(Reader r) {
        double gamma = Double.NaN;
        while (r.more()) {
            int tag = (int) r.varint();
            if (tag >>> 3 == 1 && (tag & 7) == 1) {
                gamma = r.fixedDouble();
            } else {
                r.skip(tag & 7);
            }
        }
        return gamma;
    }

    /** Store: sparse bins (1: map sint32 to double), dense counts (2: packed doubles) from an offset (3: sint32). */
    private static void readStore(Reader r, Store store) {
        double[] dense = new double[0];
        int denseCount = 0;
        int offset = 0;
        while (r.more()) {
            int tag = (int) r.varint();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == 1 && wire == 2) {
                Reader entry = r.sub();
                int index = 0;
                double count = 0;
                while (entry.more()) {
                    int t = (int) entry.varint();
                    if (t == (1 << 3)) {
                        index = zigzag(entry.varint());
                    } else if (t == ((2 << 3) | 1)) {
                        count = entry.fixedDouble();
                    } else {
                        entry.skip(t & 7);
                    }
                }
                store.add(index, count);
            } else if (field == 2 && wire == 2) {
                Reader packed = r.sub();
                while (packed.more()) {
                    if (denseCount == dense.length) {
                        dense = Arrays.copyOf(dense, Math.max(16, dense.length * 2));
                    }
                    dense[denseCount++] = packed.fixedDouble();
                }
            } else if (field == 2 && wire == 1) {
                if (denseCount == dense.length) {
                    dense = Arrays.copyOf(dense, Math.max(16, dense.length * 2));
                }
                dense[denseCount++] = r.fixedDouble();
            } else if (field == 3 && wire == 0) {
                offset = zigzag(r.varint());
            } else {
                r.skip(wire);
            }
        }
        for (int i = 0; i < denseCount; i++) {
            if (dense[i] != 0) {
                store.add(offset + i, dense[i]);
            }
        }
    }

    private static int zigzag(long v) {
        int n = (int) v;
        return (n >>> 1) ^ -(n & 1);
    }

    /** A cursor over protobuf bytes in [pos, end). */
    private static final class Reader {
        private final byte[] b;
        private int pos;
        private final int end;

        Reader(byte[] b, int pos, int end) {
            this.b = b;
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte x = b[check(pos++)];
                v |= (long) (x & 0x7F) << shift;
                if (x >= 0) {
                    return v;
                }
            }
            throw malformed();
        }

        double fixedDouble() {
            check(pos + 7);
            long v = 0;
            for (int i = 7; i >= 0; i--) {
                v = (v << 8) | (b[pos + i] & 0xFF);
            }
            pos += 8;
            return Double.longBitsToDouble(v);
        }

        Reader sub() {
            int len = (int) varint();
            int start = pos;
            pos += len;
            check(pos - 1);
            return new Reader(b, start, pos);
        }

        void skip(int wire) {
            switch (wire) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> sub();
                case 5 -> pos += 4;
                default -> throw malformed();
            }
            check(pos - 1);
        }

        private int check(int i) {
            if (i >= end) {
                throw malformed();
            }
            return i;
        }

        private StoreException malformed() {
            return new StoreException("sketch bytes are not a DDSketch protobuf message (at byte " + pos + " of "
                    + b.length + ")");
        }
    }
}
