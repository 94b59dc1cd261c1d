package dev.meterline.store;

import java.sql.SQLException;

/**
 * The series a write stores in {@code meterline_series}, each once, in the stored order ({@link SeriesColumns#compare})
 * so that replicas adding the same new series take row locks in one order and cannot deadlock, with the ids the write
 * finds or gives them. The ids go into the table's columns ({@link #keepIds}) before the rows that carry them are
 * written.
 */
final class NewSeries {

    static final NewSeries NONE = new NewSeries(new SeriesColumns(), new int[0]);

    private final SeriesColumns columns;
    private final int[] number;
    private final long[] id;

    NewSeries(SeriesColumns columns, int[] number) {
        this.columns = columns;
        this.number = number;
        this.id = new long[number.length];
    }

    int size() {
        return number.length;
    }

    boolean isEmpty() {
        return number.length == 0;
    }

    String metric(int k) {
        return columns.metric(number[k]);
    }

    String tags(int k) {
        return columns.tags(number[k]);
    }

    /** Writes the tag text of series {@code k} to {@code rows} as its UTF-8 bytes. */
    void tagsTo(int k, CopyRows rows) throws SQLException {
        columns.tagsTo(number[k], rows);
    }

    long id(int k) {
        return id[k];
    }

    void id(int k, long id) {
        this.id[k] = id;
    }

    /** The series number of series {@code k} in the table's columns. */
    int number(int k) {
        return number[k];
    }

    /** Whether a series of these was stored in an earlier series epoch. */
    boolean storedBefore() {
        for (int n : number) {
            if (columns.storedEpoch(n) != Long.MIN_VALUE) {
                return true;
            }
        }
        return false;
    }

    /** The series {@code k} of {@code ks} (rising), their ids carried along. */
    NewSeries only(int[] ks, int count) {
        NewSeries out = new NewSeries(columns, new int[count]);
        for (int i = 0; i < count; i++) {
            out.number[i] = number[ks[i]];
            out.id[i] = id[ks[i]];
        }
        return out;
    }

    /** Puts the ids found or given into the table's columns. */
    void keepIds() {
        columns.ids(number, id, number.length);
    }

    /** Records in the table's columns that a committed write stored these series in series epoch {@code epoch}. */
    void stored(long epoch) {
        columns.stored(number, number.length, epoch);
    }

}
