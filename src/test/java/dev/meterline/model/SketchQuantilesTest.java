package dev.meterline.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quantiles read from the encoded sketch held equal to those of the restored aggregate, on random sketches of every
 * shape the store writes, on edge cases, and on damaged bytes (where the reader either declines or agrees).
 */
final class SketchQuantilesTest {

    private static final double[] QS = {0, 0.01, 0.5, 0.9, 0.99, 1};

    @Test
    void randomSketchesGiveTheQuantilesOfTheRestoredAggregate() {
        Random random = new Random(5);
        SketchQuantiles reader = new SketchQuantiles();
        int direct = 0;
        for (int round = 0; round < 20_000; round++) {
            Aggregate a = random(random);
            if (check(reader, a, a.sketchBytes())) {
                direct++;
            }
        }
        // Almost every stored shape is read directly; the rest (spans past MAX_BINS) goes to the library.
        assertTrue(direct > 18_000, "read directly: " + direct);
    }

    @Test
    void edgeCases() {
        SketchQuantiles reader = new SketchQuantiles();
        double[] out = new double[QS.length];
        // No value: no sketch.
        assertTrue(reader.read(new byte[0], Double.NaN, Double.NaN, QS, out));
        assertTrue(Arrays.stream(out).allMatch(Double::isNaN));
        assertTrue(reader.read(null, Double.NaN, Double.NaN, QS, out));
        double[][] cases = {
            {42},
            {0},
            {-3.5},
            {0, 0, 0},
            {-1, 0, 1},
            {Double.MIN_NORMAL},
            {-Double.MIN_NORMAL, Double.MIN_NORMAL},
            {Double.MAX_VALUE / 2, -Double.MAX_VALUE / 2},
            {1e-300, 1e300},
            {1, 1e9},
            {Double.NaN, 1, 2},
        };
        for (double[] values : cases) {
            Aggregate a = new Aggregate();
            for (int i = 0; i < values.length; i++) {
                a.accept(values[i], i);
            }
            assertTrue(check(reader, a, a.sketchBytes()), Arrays.toString(values));
        }
        // Many values of one bin, and bins spanning more than MAX_BINS (collapsed on encoding): equal either way.
        Aggregate heavy = new Aggregate();
        for (int i = 0; i < 100_000; i++) {
            heavy.accept(7, i);
        }
        assertTrue(check(reader, heavy, heavy.sketchBytes()));
        Aggregate wide = new Aggregate();
        for (int i = -300; i <= 300; i++) {
            wide.accept(Math.pow(10, i), i);
        }
        check(reader, wide, wide.sketchBytes());
    }

    @Test
    void damagedBytesAreDeclinedOrReadAsTheLibraryReadsThem() {
        Random random = new Random(9);
        SketchQuantiles reader = new SketchQuantiles();
        double[] out = new double[QS.length];
        int declined = 0;
        for (int round = 0; round < 20_000; round++) {
            Aggregate a = random(random);
            byte[] bytes = a.sketchBytes();
            if (bytes.length == 0) {
                continue;
            }
            byte[] damaged = switch (random.nextInt(3)) {
                case 0 -> Arrays.copyOf(bytes, random.nextInt(bytes.length));
                case 1 -> {
                    byte[] d = bytes.clone();
                    d[random.nextInt(d.length)] ^= (byte) (1 << random.nextInt(8));
                    yield d;
                }
                default -> {
                    byte[] d = Arrays.copyOf(bytes, bytes.length + 1 + random.nextInt(4));
                    for (int i = bytes.length; i < d.length; i++) {
                        d[i] = (byte) random.nextInt();
                    }
                    yield d;
                }
            };
            if (!reader.read(damaged, a.min(), a.max(), QS, out)) {
                declined++;
                continue;
            }
            Aggregate restored = Aggregate.restore(a.count(), a.sum(), a.min(), a.max(), a.last(),
                    a.firstTimestamp(), a.lastTimestamp(), 0, damaged);
            for (int k = 0; k < QS.length; k++) {
                assertEquals(restored.valueAtQuantile(QS[k]), out[k], "q " + QS[k] + " of " + a);
            }
        }
        assertTrue(declined > 1_000, "declined: " + declined);
    }

    /** Compares the reader with the restored aggregate; returns whether the reader answered. */
    private static boolean check(SketchQuantiles reader, Aggregate a, byte[] bytes) {
        double[] out = new double[QS.length];
        boolean read = reader.read(bytes, a.min(), a.max(), QS, out);
        if (!read) {
            return false;
        }
        Aggregate restored = Aggregate.restore(a.count(), a.sum(), a.min(), a.max(), a.last(), a.firstTimestamp(),
                a.lastTimestamp(), a.late(), bytes);
        for (int k = 0; k < QS.length; k++) {
            assertEquals(restored.valueAtQuantile(QS[k]), out[k], "q " + QS[k] + " of " + a);
        }
        return true;
    }

    private static Aggregate random(Random random) {
        Aggregate a = new Aggregate();
        int n = 1 + random.nextInt(switch (random.nextInt(4)) {
            case 0 -> 4;
            case 1 -> 40;
            case 2 -> 1_000;
            default -> 20_000;
        });
        double scale = Math.pow(10, random.nextInt(30) - 10);
        int shape = random.nextInt(4);
        for (int i = 0; i < n; i++) {
            double v = switch (shape) {
                case 0 -> random.nextDouble() * scale;
                case 1 -> -random.nextDouble() * scale;
                case 2 -> random.nextGaussian() * scale;
                default -> random.nextInt(5) == 0 ? 0 : Math.exp(random.nextGaussian() * 10) * scale;
            };
            a.accept(v, i);
        }
        return a;
    }
}
