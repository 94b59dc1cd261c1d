package dev.meterline.ingest;

import dev.meterline.config.Overflow;
import dev.meterline.model.Batch;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A session collects each batch's points in an array made for it, sized from the batch before, and hands the batch
 * that array, filled or not: a batch it cut keeps its own points, whatever the session decodes afterwards.
 */
class IngestSessionReuseTest {

    private static final IngestSession.Replies NO_REPLIES = new IngestSession.Replies() {
        @Override
        public void completed(Batch batch, List<Reject> rejects, boolean overloadBurstStart,
                              IngestSession.Totals totals) {
        }

        @Override
        public void finished(IngestSession.Totals totals) {
        }
    };

    private static IngestSession session(int bufferPoints) {
        IngestBuffer buffer = new IngestBuffer(bufferPoints, Overflow.BLOCK);
        return new IngestSession(new IngestCodec(1024, 8), buffer, new PipelineMetrics(new SimpleMeterRegistry()),
                () -> 1_000L, NO_REPLIES, Runnable::run);
    }

    private static byte[] lines(int from, int count) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < from + count; i++) {
            sb.append("{\"metric\":\"m").append(i % 7).append("\",\"value\":").append(i)
                    .append(",\"timestamp\":").append(1_000 + i).append("}\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Every point of {@code batches} in order, as its value, and each batch's points still in line order. */
    private static List<Double> values(List<Batch> batches) {
        List<Double> out = new ArrayList<>();
        for (Batch b : batches) {
            for (Point p : b.points()) {
                out.add(p.value());
            }
        }
        return out;
    }

    @Test
    void aBatchKeepsItsPointsWhileLaterReadsAreDecoded() {
        IngestSession session = session(1_000_000);
        List<Batch> cut = new ArrayList<>();
        int sent = 0;
        // Reads of growing and shrinking sizes: a batch's array grows, or is larger than the batch; and from 1 on,
        // reads that fill the array sized after the batch before exactly (16 after 1, then a quarter more each).
        for (int size : new int[] {1, 3, 40, 5000, 2, 700, 9000, 1, 16, 20, 25, 31, 31, 31}) {
            byte[] bytes = lines(sent, size);
            cut.addAll(session.decode(bytes, 0, bytes.length));
            sent += size;
        }
        cut.addAll(session.finish());
        List<Double> expected = new ArrayList<>();
        for (int i = 0; i < sent; i++) {
            expected.add((double) i);
        }
        assertEquals(expected, values(cut));
        for (Batch b : cut) {
            assertEquals(true, b.points().size() <= 4096, "a batch holds at most 4096 points");
            for (int i = 1; i < b.points().size(); i++) {
                assertEquals(b.points().get(i - 1).line() + 1, b.points().get(i).line());
            }
            assertSummary(b);
        }
    }

    /** The batch's summary names each of its points' series hashes and the bounds of their timestamps. */
    private static void assertSummary(Batch b) {
        int[] hashes = b.seriesHashes();
        long earliest = Long.MAX_VALUE;
        long latest = Long.MIN_VALUE;
        for (int i = 0; i < b.points().size(); i++) {
            Point p = b.points().get(i);
            assertEquals(p.seriesHash(), hashes[i], "hash of point " + i);
            earliest = Math.min(earliest, p.timestamp());
            latest = Math.max(latest, p.timestamp());
        }
        assertEquals(earliest, b.earliest());
        assertEquals(latest, b.latest());
    }

    /** Timestamps out of order and points without one (stamped at the read): the bounds cover them all. */
    @Test
    void aBatchsSummaryBoundsItsTimestamps() {
        IngestSession session = session(1_000_000);
        String text = "{\"metric\":\"a\",\"value\":1,\"timestamp\":5000}\n"
                + "{\"metric\":\"b\",\"value\":2,\"timestamp\":300}\n"
                + "{\"metric\":\"c\",\"value\":3}\n"
                + "{\"metric\":\"a\",\"value\":4,\"timestamp\":4000}\n";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        List<Batch> cut = session.decode(bytes, 0, bytes.length);
        assertEquals(1, cut.size());
        Batch b = cut.get(0);
        assertEquals(4, b.points().size());
        assertSummary(b);
        assertEquals(300, b.earliest());
        assertEquals(5000, b.latest());
    }

    @Test
    void aBatchFullAtTheBoundIsCutAndTheRestStartsTheNextOne() {
        IngestSession session = session(10);
        byte[] bytes = lines(0, 25);
        List<Batch> cut = session.decode(bytes, 0, bytes.length);
        assertEquals(List.of(10, 10, 5), cut.stream().map(b -> b.points().size()).toList());
        assertEquals(25, values(cut).size());
        assertEquals(0.0, cut.get(1).points().get(0).value() - 10);
    }

    @Test
    void aBatchsPointsCannotBeChanged() {
        IngestSession session = session(100);
        byte[] bytes = lines(0, 3);
        List<Point> points = session.decode(bytes, 0, bytes.length).get(0).points();
        assertThrows(UnsupportedOperationException.class, () -> points.set(0, points.get(1)));
        assertThrows(UnsupportedOperationException.class, () -> points.add(points.get(1)));
        assertThrows(IndexOutOfBoundsException.class, () -> points.get(3));
    }
}
