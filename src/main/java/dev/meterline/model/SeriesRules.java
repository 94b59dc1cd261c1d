package dev.meterline.model;

/**
 * The rules on a series' own content, applied once where a key is built from input: whether the key may be taken,
 * and the key to record in its place (the configured static tags added).
 */
public interface SeriesRules {

    /** Takes every key as it is: for decoders tested on their own. */
    SeriesRules NONE = new SeriesRules() {
        @Override
        public RejectReason checkSeries(SeriesKey key) {
            return null;
        }

        @Override
        public SeriesKey enrich(SeriesKey key) {
            return key;
        }
    };

    /** Null when the content of {@code key} is acceptable, else why not; the same for good for the same key. */
    RejectReason checkSeries(SeriesKey key);

    /** The key to record for an accepted {@code key}: {@code key} itself when nothing is added. */
    SeriesKey enrich(SeriesKey key);
}
