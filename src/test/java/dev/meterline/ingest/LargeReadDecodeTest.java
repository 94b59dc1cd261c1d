package dev.meterline.ingest;

import dev.meterline.model.SeriesRules;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A TCP read may be far larger than the decoder's slice: it gives what the same bytes give in small reads, and the
 * buffer the decoder keeps for its connection stays within a slice and a line.
 */
class LargeReadDecodeTest {

    private static final int MAX_LINE = 4_096;

    private static LineDecoder decoder(RecordedOutput out) {
        return new IngestCodec(MAX_LINE, 8, 1_000, SeriesRules.NONE).decoder(out);
    }

    /** About {@code bytes} of lines: plain, with spaces, too long, not JSON, and syncs. */
    private static byte[] lines(SplittableRandom rnd, int bytes) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < bytes) {
            int s = rnd.nextInt(500);
            String line = switch (rnd.nextInt(12)) {
                case 0 -> "{\"metric\":\"m\",\"value\":1,\"tags\":{\"h\":\"" + "x".repeat(MAX_LINE) + "\"}}";
                case 1 -> "{ \"metric\": \"m" + s % 7 + "\", \"value\": " + rnd.nextInt(99) + ".5 }";
                case 2 -> "not json";
                case 3 -> "{\"sync\":\"s" + s + "\"}";
                case 4 -> "{\"metric\":\"m1\",\"value\":2,\"tags\":{\"h\":\"" + "y".repeat(rnd.nextInt(MAX_LINE - 64))
                        + "\"}}";
                default -> "{\"metric\":\"m" + s % 7 + "\",\"value\":" + rnd.nextInt(1_000) + "." + rnd.nextInt(100)
                        + ",\"timestamp\":1700000000" + rnd.nextInt(1_000) + ",\"tags\":{\"host\":\"h" + s + "\"}}";
            };
            sb.append(line).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aReadOfManySlicesGivesWhatSmallReadsGiveAndKeepsABufferOfOneSlice() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int round = 0; round < 5; round++) {
            byte[] input = lines(rnd, 700_000 + rnd.nextInt(300_000));

            RecordedOutput small = new RecordedOutput();
            LineDecoder reference = decoder(small);
            int[] cuts = new int[input.length / 1_500];
            for (int i = 0; i < cuts.length; i++) {
                cuts[i] = (i + 1) * 1_500 - rnd.nextInt(700);
            }
            RecordedOutput.send(reference, input, cuts, 7);

            RecordedOutput large = new RecordedOutput();
            LineDecoder decoder = decoder(large);
            // Two reads, each many slices long, the first ending inside a line.
            int cut = input.length / 2 + rnd.nextInt(1_000);
            ByteBuf first = Unpooled.wrappedBuffer(input, 0, cut);
            ByteBuf second = Unpooled.wrappedBuffer(input, cut, input.length - cut);
            decoder.decode(first, 7);
            decoder.decode(second, 7);
            decoder.finish(7);

            assertEquals(small.seen, large.seen, "round " + round);
            assertTrue(large.points.size() > 1_000, "points: " + large.points.size());
            assertTrue(decoder.bufferBytes() <= 2 * (LineDecoder.SLICE_BYTES + MAX_LINE),
                    "buffer of " + decoder.bufferBytes() + " bytes after reads of " + cut + " bytes");
        }
    }
}
