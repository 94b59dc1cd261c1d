package dev.meterline.store;

/**
 * The kept texts of a write's windows' series: each window's series number in one generation of the table
 * ({@link SeriesColumns}), with the metric read once per window and the ids once the write knows them
 * ({@link #readIds}), so that the write's sorts and rows read plain arrays rather than the shared columns.
 */
final class WindowTexts {

    private final SeriesColumns columns;
    private final int[] number;
    private final int[] metric;
    private final String[] metricNames;
    private final long[] id;

    /** The windows' series {@code number[i]} in {@code columns}; the array is kept, not copied. */
    WindowTexts(SeriesColumns columns, int[] number) {
        this.columns = columns;
        this.number = number;
        this.metric = new int[number.length];
        columns.metrics(number, metric);
        this.metricNames = columns.metricNames();
        this.id = new long[number.length];
        columns.ids(number, id);
    }

    private WindowTexts(WindowTexts of, int[] places) {
        this.columns = of.columns;
        this.metricNames = of.metricNames;
        int n = places.length;
        this.number = new int[n];
        this.metric = new int[n];
        this.id = new long[n];
        for (int p = 0; p < n; p++) {
            number[p] = of.number[places[p]];
            metric[p] = of.metric[places[p]];
            id[p] = of.id[places[p]];
        }
    }

    /** These texts at {@code places}: the text at {@code p} is this one's at {@code places[p]}. */
    WindowTexts at(int[] places) {
        return new WindowTexts(this, places);
    }

    /** These texts from {@code from} to {@code to}. */
    WindowTexts range(int from, int to) {
        int[] places = new int[to - from];
        for (int p = 0; p < places.length; p++) {
            places[p] = from + p;
        }
        return at(places);
    }

    int size() {
        return number.length;
    }

    /** The generation of the table the series are numbered in. */
    SeriesColumns columns() {
        return columns;
    }

    /** The series number of window {@code i}; two windows of one series kept in the table share it. */
    int number(int i) {
        return number[i];
    }

    /** The metric of window {@code i}, one instance per metric name. */
    String metric(int i) {
        return metricNames[metric[i]];
    }

    /** Whether windows {@code i} and {@code j} have the same metric. */
    boolean sameMetric(int i, int j) {
        return metric[i] == metric[j];
    }

    /** The tag text of window {@code i}'s series, decoded. */
    String tags(int i) {
        return columns.tags(number[i]);
    }

    /** The series id of window {@code i}, as of the last {@link #readIds} (or the construction). */
    long id(int i) {
        return id[i];
    }

    /** Reads every window's series id again, once the write stored its new series. */
    void readIds() {
        columns.ids(number, id);
    }

    /** The series epoch in which each window's series was last known stored ({@link SeriesColumns#storedEpoch}). */
    long[] storedEpochs() {
        long[] epochs = new long[number.length];
        columns.storedEpochs(number, epochs);
        return epochs;
    }

    /** Whether every window's series was stored in some epoch, so that its id is known. */
    boolean storedEver() {
        return columns.storedEver(number);
    }

    /** Fills the ranks of each window's series from one ranking ({@link SeriesColumns#rank}). */
    void rank(int[] rank, int[] metricRank) {
        columns.rank(number, rank, metricRank);
    }

    /** The order of windows {@code i} and {@code j} by their series' texts. */
    int compare(int i, int j) {
        return columns.compare(number[i], number[j]);
    }
}
