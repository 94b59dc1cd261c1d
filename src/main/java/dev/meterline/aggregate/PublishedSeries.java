package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.util.List;

/** One series' open windows as queries see them: immutable copies, replaced by its shard after each change. */
final class PublishedSeries {

    final SeriesKey key;
    /** Copies of the open windows; replaced whole, never changed, so any thread may read them. */
    volatile List<Window> windows = List.of();
    /** The views of its shard that hold it; its shard's thread only. */
    int views;
    /** Whether it waits to be published again at the end of the part; its shard's thread only. */
    boolean dirty;

    PublishedSeries(SeriesKey key) {
        this.key = key;
    }
}
