package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;
import com.datadoghq.sketch.ddsketch.store.SparseStore;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The direct encoding of a few values, held byte for byte to the library's sketch over a sparse store. */
final class SparseSketchTest {

    private static final IndexMapping MAPPING = new LogarithmicMapping(Aggregate.RELATIVE_ACCURACY);
    private static final SparseSketch ENCODING = new SparseSketch(MAPPING, Aggregate.MAX_BINS);

    private static byte[] library(double[] values, int n) throws Exception {
        DDSketch sketch = new DDSketch(MAPPING, SparseStore::new);
        for (int i = 0; i < n; i++) {
            sketch.accept(values[i]);
        }
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withDefaultInitialCapacity();
        sketch.encode(out, false);
        return out.trimmedCopy();
    }

    @Test
    void encodesRandomValuesOfBothSignsZerosAndRepeatsAsTheLibraryDoes() throws Exception {
        Random random = new Random(11);
        double[] pool = {0, -0.0, 1e-320, -1e-320, 1, 1, -1, 1e300, -1e300, 42, 42.0000001};
        int compared = 0;
        for (int trial = 0; trial < 20_000; trial++) {
            int n = 1 + random.nextInt(Aggregate.SPARSE_MAX);
            double[] values = new double[n + 3];
            for (int i = 0; i < n; i++) {
                values[i] = switch (random.nextInt(4)) {
                    case 0 -> pool[random.nextInt(pool.length)];
                    case 1 -> Math.exp(random.nextGaussian() * 3);
                    case 2 -> -Math.exp(random.nextGaussian() * 3);
                    default -> random.nextInt(5) * 1000.0;
                };
            }
            byte[] direct = ENCODING.encode(values, n);
            if (direct != null) {
                assertArrayEquals(library(values, n), direct, () -> java.util.Arrays.toString(values));
                compared++;
            }
        }
        assertTrue(compared > 10_000, "encoded directly: " + compared);
    }

    @Test
    void valuesWhoseBinsSpanTheDenseStoreAreLeftToTheSketch() {
        assertNull(ENCODING.encode(new double[] {1e-300, 1e300}, 2));
        assertNull(ENCODING.encode(new double[] {-1e-300, -1e300, 5}, 3));
        assertNotNull(ENCODING.encode(new double[] {1e-300, -1e300}, 2));
    }

    @Test
    void valuesOutOfTheMappingsRangeAreLeftToTheSketch() {
        assertNull(ENCODING.encode(new double[] {1, Double.MAX_VALUE}, 2));
        assertNull(ENCODING.encode(new double[] {Double.NEGATIVE_INFINITY}, 1));
    }

    @Test
    void anAggregateWithFewValuesDecodesToTheSameQuantiles() {
        Aggregate a = new Aggregate();
        double[] values = {3, -7.5, 0, 1e6, 3, 12};
        for (int i = 0; i < values.length; i++) {
            a.accept(values[i], i);
        }
        Aggregate restored = Aggregate.restore(a.count(), a.sum(), a.min(), a.max(), a.last(), a.firstTimestamp(),
                a.lastTimestamp(), a.late(), a.sketchBytes());
        for (double q : new double[] {0, 0.2, 0.5, 0.8, 1}) {
            assertEquals(a.valueAtQuantile(q), restored.valueAtQuantile(q), "quantile " + q);
        }
    }
}
