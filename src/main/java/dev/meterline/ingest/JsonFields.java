package dev.meterline.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesRules;

import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;

/**
 * Reads one line's JSON object from a Jackson parser into a point or a sync, applying every field rule; reused
 * line after line, so it holds the last line's fields.
 */
final class JsonFields {

    static final String ONE_OBJECT = "invalid JSON: one object per line";
    static final String UNPAIRED_SURROGATE = "invalid UTF-8: unpaired surrogate escape";
    /** Never answered: tells the shared parse to leave a line with an unknown field to a parser of its own. */
    static final Reject UNKNOWN_FIELD = new Reject(0, RejectReason.INVALID_JSON, "unknown field");
    static final String[] NO_PAIRS = new String[0];

    private static final int MAX_PAIRS_TO_COLLECT = 2 * 1024;
    /** Field bits, for duplicate detection without a per-object set. */
    private static final int METRIC = 1;
    private static final int VALUE = 2;
    private static final int TIMESTAMP = 4;
    private static final int TAGS = 8;
    private static final int SYNC = 16;

    private final int maxTags;
    private final SeriesRules rules;

    private String metric;
    private double value;
    private long timestamp;
    private int tagCount;
    private String syncId;
    private boolean isSync;
    private String[] pairs = new String[16];
    /** The field being read, for the failure's classification. */
    String field;
    /** Offset of the last object's first byte in the parser's input, when not read {@code whole}. */
    long objectStart;

    JsonFields(int maxTags, SeriesRules rules) {
        this.maxTags = maxTags;
        this.rules = rules;
    }

    /**
     * Reads line {@code line}'s object from {@code p} into the fields; returns its reject, or null for a point or a
     * sync. {@code receivedAt} stands in for a missing timestamp. With {@code whole}, the parser holds exactly the
     * line, and a second value on it is an error.
     */
    Reject read(JsonParser p, boolean whole, int line, long receivedAt) throws IOException {
        metric = null;
        value = 0;
        timestamp = receivedAt;
        tagCount = 0;
        syncId = null;
        isSync = false;
        int seen = 0;
        RejectReason problem = null;
        if (p.nextToken() != JsonToken.START_OBJECT) {
            return Reject.of(line, RejectReason.NOT_AN_OBJECT);
        }
        if (!whole) {
            objectStart = p.currentTokenLocation().getByteOffset();
        }
        while ((field = p.nextFieldName()) != null) {
            JsonToken t = p.nextToken();
            int bit = switch (field) {
                case "metric" -> METRIC;
                case "value" -> VALUE;
                case "timestamp" -> TIMESTAMP;
                case "tags" -> TAGS;
                case "sync" -> SYNC;
                default -> 0;
            };
            if (bit == 0) {
                if (!whole) {
                    // The shared parser does not detect duplicate keys: an unknown field (which may repeat, or
                    // hold an object that does) is left to a strict parser of the line's own.
                    return UNKNOWN_FIELD;
                }
                p.skipChildren();
                continue;
            }
            if ((seen & bit) != 0) {
                return new Reject(line, RejectReason.DUPLICATE_FIELD, "duplicate field '" + field + "'");
            }
            seen |= bit;
            switch (bit) {
                case METRIC -> {
                    if (t == JsonToken.VALUE_STRING) {
                        metric = p.getText();
                        if (hasUnpairedSurrogate(metric)) {
                            return new Reject(line, RejectReason.INVALID_UTF8, UNPAIRED_SURROGATE);
                        }
                    } else if (problem == null) {
                        problem = RejectReason.METRIC_INVALID;
                    }
                    p.skipChildren();
                }
                case VALUE -> {
                    if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                        value = p.getDoubleValue();
                        if (!Double.isFinite(value) && problem == null) {
                            problem = RejectReason.VALUE_INVALID;
                        }
                    } else {
                        p.skipChildren();
                        if (problem == null) {
                            problem = RejectReason.VALUE_INVALID;
                        }
                    }
                }
                case TIMESTAMP -> {
                    if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                        timestamp = p.getLongValue();
                    } else if (t == JsonToken.VALUE_STRING) {
                        long parsed = parseRfc3339(p.getText());
                        if (parsed == Long.MIN_VALUE && problem == null) {
                            problem = RejectReason.TIMESTAMP_INVALID;
                        }
                        timestamp = parsed;
                    } else if (t != JsonToken.VALUE_NULL) {
                        p.skipChildren();
                        if (problem == null) {
                            problem = RejectReason.TIMESTAMP_INVALID;
                        }
                    }
                }
                case TAGS -> {
                    if (t == JsonToken.START_OBJECT) {
                        RejectReason tagProblem = null;
                        String key;
                        while ((key = p.nextFieldName()) != null) {
                            JsonToken vt = p.nextToken();
                            if (vt != JsonToken.VALUE_STRING) {
                                p.skipChildren();
                                if (tagProblem == null) {
                                    tagProblem = RejectReason.TAG_VALUE_INVALID;
                                }
                                continue;
                            }
                            if (tagProblem != null) {
                                continue;
                            }
                            if (tagCount >= maxTags) {
                                tagProblem = RejectReason.TOO_MANY_TAGS;
                                continue;
                            }
                            if (indexOfKey(key, tagCount) >= 0) {
                                tagProblem = RejectReason.TAG_DUPLICATE;
                                continue;
                            }
                            String tagValue = p.getText();
                            if (hasUnpairedSurrogate(key) || hasUnpairedSurrogate(tagValue)) {
                                return new Reject(line, RejectReason.INVALID_UTF8, UNPAIRED_SURROGATE);
                            }
                            addPair(tagCount++, key, tagValue);
                        }
                        if (tagProblem != null && problem == null) {
                            problem = tagProblem;
                        }
                    } else if (t != JsonToken.VALUE_NULL) {
                        p.skipChildren();
                        if (problem == null) {
                            problem = RejectReason.TAGS_INVALID;
                        }
                    }
                }
                case SYNC -> {
                    if (t == JsonToken.VALUE_STRING) {
                        syncId = p.getText();
                        if (hasUnpairedSurrogate(syncId)) {
                            return new Reject(line, RejectReason.INVALID_UTF8, UNPAIRED_SURROGATE);
                        }
                    } else {
                        p.skipChildren();
                        if (problem == null) {
                            problem = RejectReason.SYNC_INVALID;
                        }
                    }
                }
                default -> throw new IllegalStateException(field);
            }
        }
        if (whole && p.nextToken() != null) {
            return new Reject(line, RejectReason.INVALID_JSON, ONE_OBJECT);
        }
        if ((seen & SYNC) != 0 && problem == null) {
            isSync = true;
            return null;
        }
        if (problem == null) {
            if ((seen & SYNC) != 0) {
                problem = RejectReason.SYNC_INVALID;
            } else if (metric == null) {
                problem = (seen & METRIC) != 0 ? RejectReason.METRIC_INVALID : RejectReason.METRIC_MISSING;
            } else if ((seen & VALUE) == 0) {
                problem = RejectReason.VALUE_MISSING;
            }
        }
        return problem == null ? null : Reject.of(line, problem);
    }

    /**
     * Hands the point or sync that {@link #read} found to {@code out}; a point whose series breaks a series rule is
     * rejected instead, the last check of a line.
     */
    void emit(LineDecoder.Output out, int line) {
        if (isSync) {
            out.sync(syncId, line);
            return;
        }
        String[] tags = tagCount == 0 ? NO_PAIRS : Arrays.copyOf(pairs, tagCount * 2);
        SeriesKey key = SeriesKey.ofPairs(metric, tags, tagCount);
        RejectReason why = rules.checkSeries(key);
        if (why != null) {
            out.reject(Reject.of(line, why));
            return;
        }
        out.point(new Point(rules.enrich(key), value, timestamp, line));
    }

    /** True when {@code s} holds a surrogate that is not half of a pair (only possible through a JSON escape). */
    static boolean hasUnpairedSurrogate(String s) {
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE) {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
                continue;
            }
            return true;
        }
        return false;
    }

    private int indexOfKey(String key, int count) {
        for (int i = 0; i < count; i++) {
            if (pairs[2 * i].equals(key)) {
                return i;
            }
        }
        return -1;
    }

    private void addPair(int index, String key, String value) {
        if (pairs.length < 2 * index + 2) {
            pairs = Arrays.copyOf(pairs, Math.min(MAX_PAIRS_TO_COLLECT, pairs.length * 2));
        }
        pairs[2 * index] = key;
        pairs[2 * index + 1] = value;
    }

    /** Epoch milliseconds of an RFC 3339 timestamp, or Long.MIN_VALUE when it is not one. */
    static long parseRfc3339(String text) {
        try {
            return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
            return Long.MIN_VALUE;
        }
    }
}
