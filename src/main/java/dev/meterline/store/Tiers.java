package dev.meterline.store;

import dev.meterline.config.Tier;

import java.util.List;

/**
 * The retention tiers in milliseconds, finest first: which tier a read uses, and how long rows of a resolution live.
 *
 * <p>Flushed windows are expected at the first tier's resolution (the default window equals it). A window finer
 * than the first tier is kept for the first tier's retention and rolled up into every tier, the first included.
 */
final class Tiers {

    private final long[] resolution;
    private final long[] retention;

    Tiers(List<Tier> tiers) {
        if (tiers.isEmpty()) {
            throw new IllegalArgumentException("tiers: [] (expected: at least one tier)");
        }
        resolution = new long[tiers.size()];
        retention = new long[tiers.size()];
        for (int i = 0; i < tiers.size(); i++) {
            resolution[i] = tiers.get(i).resolution().toMillis();
            retention[i] = tiers.get(i).retention().toMillis();
        }
    }

    int size() {
        return resolution.length;
    }

    long resolution(int tier) {
        return resolution[tier];
    }

    long retention(int tier) {
        return retention[tier];
    }

    /**
     * The resolution to read for a query at {@code requested}: the finest tier that divides it and whose retention
     * still covers {@code from} at {@code now}, else the finest tier that divides it.
     */
    long readResolution(long requested, long from, long now) {
        long fallback = -1;
        for (int i = 0; i < resolution.length; i++) {
            if (requested % resolution[i] != 0) {
                continue;
            }
            if (fallback < 0) {
                fallback = resolution[i];
            }
            if (from >= now - retention[i]) {
                return resolution[i];
            }
        }
        if (fallback < 0) {
            throw new IllegalArgumentException("resolution: " + requested + "ms (expected: a multiple of the finest"
                    + " tier's " + resolution[0] + "ms)");
        }
        return fallback;
    }

    /**
     * The tier that {@code tier} is rolled up from, when not from the written partials: the coarsest rolled tier
     * (not the first) finer than it whose resolution divides its own and whose retention keeps a whole window of it
     * until it is rolled up ({@code delayMillis} after it ends); -1 when none does.
     */
    int sourceOf(int tier, long delayMillis) {
        for (int i = tier - 1; i >= 1; i--) {
            if (resolution[tier] % resolution[i] == 0 && retention[i] >= resolution[tier] + delayMillis) {
                return i;
            }
        }
        return -1;
    }

    /** How long rows of {@code rowResolution} are kept: the retention of the coarsest tier not coarser than it. */
    long retentionOf(long rowResolution) {
        long kept = retention[0];
        for (int i = 0; i < resolution.length && resolution[i] <= rowResolution; i++) {
            kept = retention[i];
        }
        return kept;
    }
}
