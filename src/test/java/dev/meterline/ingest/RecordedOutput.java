package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.Reject;

import java.util.ArrayList;
import java.util.List;

/**
 * What a decoder gave, in order, as text (points, rejects with their messages, syncs) and as points: two decoders of
 * the same input are compared by their texts.
 */
final class RecordedOutput implements LineDecoder.Output {

    final List<String> seen = new ArrayList<>();
    final List<Point> points = new ArrayList<>();

    @Override
    public void point(Point p) {
        points.add(p);
        seen.add("point " + p.series() + " " + p.value() + " @" + p.timestamp() + " line " + p.line());
    }

    @Override
    public void reject(Reject r) {
        seen.add("reject " + r.line() + " " + r.reason() + " " + r.message());
    }

    @Override
    public void sync(String id, int line) {
        seen.add("sync " + id + " line " + line);
    }

    /** Has {@code decoder} decode {@code input} in reads that end at each of {@code cuts} (ascending), then finish. */
    static void send(LineDecoder decoder, byte[] input, int[] cuts, long now) {
        int from = 0;
        for (int cut : cuts) {
            decoder.decode(input, from, cut - from, now);
            from = cut;
        }
        decoder.decode(input, from, input.length - from, now);
        decoder.finish(now);
    }
}
