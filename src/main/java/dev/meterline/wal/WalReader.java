package dev.meterline.wal;

import dev.meterline.model.SeriesKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Reads every segment in order into a {@link Replay}, and repairs the log on the way: at the first damage (a torn or
 * truncated record, a bad checksum, a bad length or type, a missing or unreadable segment) it keeps the valid prefix,
 * truncates the damaged segment there, deletes the segments after it, and logs the segment and the offset.
 * Everything after the damage is dropped because a later record may depend on one that was lost (a window closed by
 * a lost record would otherwise be counted twice).
 */
final class WalReader {

    private static final Logger log = LoggerFactory.getLogger(WalReader.class);

    /** What reading found: the last segment kept (0 for none), points replayed and damages repaired. */
    record Result(long lastSegment, long points, int corruptions, long bytes, long segments) {
    }

    /** The log was written with another shard count; its records cannot be fed to these shards. */
    static final class ShardMismatch extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int logShards;

        ShardMismatch(int logShards) {
            super("the write-ahead log was written with " + logShards + " shards", null, false, false);
            this.logShards = logShards;
        }
    }

    private WalReader() {
    }

    /** Lists the segment files of {@code dir} by number. */
    static TreeMap<Long, Path> segments(Path dir) {
        TreeMap<Long, Path> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> {
                long n = WalFormat.segmentOf(f.getFileName().toString());
                if (n >= 0) {
                    out.put(n, f);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the write-ahead log in " + dir, e);
        }
        return out;
    }

    static Result read(Path dir, int shards, Replay replay) {
        TreeMap<Long, Path> segments = segments(dir);
        long last = 0;
        long points = 0;
        long bytes = 0;
        long kept = 0;
        int corruptions = 0;
        Long expected = null;
        List<Path> all = new ArrayList<>(segments.values());
        for (int i = 0; i < all.size(); i++) {
            Path file = all.get(i);
            long n = WalFormat.segmentOf(file.getFileName().toString());
            Damage damage;
            long valid;
            if (expected != null && n != expected) {
                damage = new Damage(0, "segment " + WalFormat.fileName(expected) + " is missing");
                valid = -1;
            } else {
                byte[] data;
                try {
                    data = Files.readAllBytes(file);
                } catch (IOException e) {
                    data = null;
                }
                Segment s = data == null ? new Segment(0, 0, new Damage(0, "unreadable"))
                        : readSegment(n, data, shards, replay);
                points += s.points;
                damage = s.damage;
                valid = s.validBytes;
            }
            if (damage == null) {
                last = n;
                bytes += valid;
                kept++;
                expected = n + 1;
                continue;
            }
            corruptions++;
            int dropped = all.size() - i - 1;
            log.warn("write-ahead log damaged: segment {} at offset {}: {}; keeping the {} valid bytes before it and "
                            + "dropping {} later segment(s); acknowledged points after that offset are lost",
                    file, damage.offset, damage.reason, Math.max(0, valid), dropped);
            if (valid > 0) {
                truncate(file, valid);
                last = n;
                bytes += valid;
                kept++;
            } else {
                delete(file);
            }
            for (int j = i + 1; j < all.size(); j++) {
                delete(all.get(j));
            }
            break;
        }
        return new Result(last, points, corruptions, bytes, kept);
    }

    private record Damage(long offset, String reason) {
    }

    private record Segment(long points, long validBytes, Damage damage) {
    }

    /** Replays one segment's valid records; the damage, if any, ends it. */
    private static Segment readSegment(long segment, byte[] data, int shards, Replay replay) {
        Map<Integer, SeriesKey> series = new HashMap<>();
        long points = 0;
        int pos = 0;
        boolean first = true;
        while (pos < data.length) {
            if (data.length - pos < WalFormat.FRAME) {
                return new Segment(points, pos, new Damage(pos, "torn record: " + (data.length - pos)
                        + " bytes, shorter than a record's frame"));
            }
            byte type = data[pos];
            int len = ((data[pos + 1] & 0xFF) << 24) | ((data[pos + 2] & 0xFF) << 16) | ((data[pos + 3] & 0xFF) << 8)
                    | (data[pos + 4] & 0xFF);
            int crc = ((data[pos + 5] & 0xFF) << 24) | ((data[pos + 6] & 0xFF) << 16) | ((data[pos + 7] & 0xFF) << 8)
                    | (data[pos + 8] & 0xFF);
            if (type < WalFormat.HEADER || type > WalFormat.CLOSE_ALL) {
                return new Segment(points, pos, new Damage(pos, "unknown record type " + type));
            }
            if (len < 0 || len > WalFormat.MAX_PAYLOAD) {
                return new Segment(points, pos, new Damage(pos, "bad record length " + len));
            }
            if (len > data.length - pos - WalFormat.FRAME) {
                return new Segment(points, pos, new Damage(pos, "record of " + len + " bytes runs past the end of the "
                        + "segment (" + (data.length - pos - WalFormat.FRAME) + " left): torn or truncated"));
            }
            int payload = pos + WalFormat.FRAME;
            if (WalFormat.crc(type, data, payload, len) != crc) {
                return new Segment(points, pos, new Damage(pos, "checksum mismatch"));
            }
            if (first != (type == WalFormat.HEADER)) {
                return new Segment(points, pos, new Damage(pos, first ? "no segment header" : "a second header"));
            }
            first = false;
            try {
                points += apply(type, new WalFormat.In(data, payload, len), segment, shards, series, replay);
            } catch (WalFormat.Malformed e) {
                return new Segment(points, pos, new Damage(pos, "malformed record: " + e.getMessage()));
            }
            pos = payload + len;
        }
        if (first) {
            return new Segment(points, 0, new Damage(0, "empty segment"));
        }
        return new Segment(points, pos, null);
    }

    /** Decodes one record whole before replaying any of it; returns the points it held. */
    private static int apply(byte type, WalFormat.In in, long segment, int shards, Map<Integer, SeriesKey> series,
                             Replay replay) {
        switch (type) {
            case WalFormat.HEADER -> {
                if ((int) in.fixed64() != WalFormat.MAGIC) {
                    throw new WalFormat.Malformed("not a Meterline log segment");
                }
                int version = in.varint32();
                if (version != WalFormat.VERSION) {
                    throw new WalFormat.Malformed("format version " + version);
                }
                int logShards = in.varint32();
                long number = in.fixed64();
                if (number != segment) {
                    throw new WalFormat.Malformed("header names segment " + number);
                }
                long[] cutoffs = new long[logShards];
                for (int i = 0; i < logShards; i++) {
                    cutoffs[i] = in.fixed64();
                }
                if (logShards != shards) {
                    throw new ShardMismatch(logShards);
                }
                for (int i = 0; i < logShards; i++) {
                    if (cutoffs[i] != Long.MIN_VALUE) {
                        replay.closedThrough(i, cutoffs[i]);
                    }
                }
                return 0;
            }
            case WalFormat.SERIES -> {
                int ref = in.varint32();
                String metric = in.string();
                int tags = in.varint32();
                if (tags > 4096) {
                    throw new WalFormat.Malformed(tags + " tags");
                }
                String[] pairs = new String[tags * 2];
                for (int i = 0; i < pairs.length; i++) {
                    pairs[i] = in.string();
                }
                series.put(ref, SeriesKey.ofPairs(metric, pairs, tags));
                return 0;
            }
            case WalFormat.SAMPLES -> {
                int shard = shard(in.varint32(), shards);
                int n = in.varint32();
                long ts = in.fixed64();
                SeriesKey[] keys = new SeriesKey[Math.min(n, 1 << 20)];
                long[] times = new long[keys.length];
                double[] values = new double[keys.length];
                if (n > keys.length) {
                    throw new WalFormat.Malformed(n + " samples");
                }
                for (int i = 0; i < n; i++) {
                    SeriesKey key = series.get(in.varint32());
                    if (key == null) {
                        throw new WalFormat.Malformed("sample of an undefined series");
                    }
                    ts += in.zigzag();
                    keys[i] = key;
                    times[i] = ts;
                    values[i] = Double.longBitsToDouble(in.fixed64());
                }
                for (int i = 0; i < n; i++) {
                    replay.point(shard, keys[i], times[i], values[i], segment);
                }
                return n;
            }
            default -> {
                int shard = shard(in.varint32(), shards);
                long seq = in.varint();
                long cutoff = in.fixed64();
                replay.closed(shard, seq, cutoff, type == WalFormat.CLOSE_ALL);
                return 0;
            }
        }
    }

    private static int shard(int shard, int shards) {
        if (shard >= shards) {
            throw new WalFormat.Malformed("shard " + shard + " of " + shards);
        }
        return shard;
    }

    private static void truncate(Path file, long size) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate the damaged log segment " + file, e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the log segment " + file, e);
        }
    }
}
