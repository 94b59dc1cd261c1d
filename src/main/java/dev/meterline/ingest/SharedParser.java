package dev.meterline.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;

import java.io.IOException;

/**
 * One Jackson parser shared by the lines of a read, which saves creating a parser per line; it takes only lines
 * whose answer cannot differ from a parser of their own.
 */
final class SharedParser {

    private final JsonFactory sharedJson;
    private final JsonFields fields;

    /** The parser shared by the lines of the current read, from {@code sharedFrom} to {@code sharedEnd}; or null. */
    private JsonParser shared;
    private int sharedFrom;
    private int sharedEnd;
    /**
     * Set once the shared parser has read past the end of a line in the current read (an object left open on its
     * line): the rest of the read is decoded line by line, so hostile input cannot make parsers rescan it.
     */
    private boolean sharedOverran;
    /** Lines taken by the shared parser, for tests. */
    private long sharedLines;

    SharedParser(JsonFactory sharedJson, JsonFields fields) {
        this.sharedJson = sharedJson;
        this.fields = fields;
    }

    /** Starts a read whose bytes end at {@code end}. */
    void startRead(int end) {
        sharedEnd = end;
        sharedOverran = false;
    }

    /** True once a line of this read left the parser past its end: no later line of the read may share it. */
    boolean overran() {
        return sharedOverran;
    }

    /** The number of lines the shared parser decoded. */
    long lines() {
        return sharedLines;
    }

    /**
     * Decodes line {@code [from, to)} of {@code data} with the parser shared by the lines of this read. Only a clean
     * point or sync that ends within its line is taken: it is left in the fields and true is returned. Anything else
     * returns false (and drops the shared parser), and the line is decoded again on its own, so outcomes never
     * differ.
     */
    boolean parse(byte[] data, int from, int to, int line, long receivedAt) {
        if (shared == null && (data[from] & 0xFF) == 0xEF) {
            // A UTF-8 byte order mark is left to a parser of the line's own (Jackson skips one only at a start).
            return false;
        }
        try {
            if (shared == null) {
                shared = sharedJson.createParser(data, from, sharedEnd - from);
                sharedFrom = from;
            }
            // Every rule of JsonFields holds here too (surrogates, duplicates, depth, number length...): a line that
            // breaks one, or has an unknown field, is not taken, and the per-line parse gives its exact answer.
            if (fields.read(shared, false, line, receivedAt) != null) {
                return fallBack(to);
            }
            int first = from;
            while (first < to && isJsonSpace(data[first])) {
                first++;
            }
            int end = sharedFrom + (int) shared.currentLocation().getByteOffset();
            if (fields.objectStart + sharedFrom != first || end > to) {
                return fallBack(to);
            }
            for (int i = end; i < to; i++) {
                if (!isJsonSpace(data[i])) {
                    return fallBack(to);
                }
            }
        } catch (IOException | RuntimeException e) {
            return fallBack(to);
        }
        sharedLines++;
        return true;
    }

    /** Gives line {@code [.., to)} up to the per-line parser; returns false for {@link #parse}. */
    private boolean fallBack(int to) {
        if (shared != null) {
            try {
                if (sharedFrom + shared.currentLocation().getByteOffset() > to) {
                    sharedOverran = true;
                }
            } catch (RuntimeException e) {
                sharedOverran = true;
            }
        }
        drop();
        return false;
    }

    /** Closes the shared parser, if any: the next line that may share one starts a new one. */
    void drop() {
        if (shared != null) {
            try {
                shared.close();
            } catch (IOException e) {
                // a byte-array parser has nothing to release that can fail
            }
            shared = null;
        }
    }

    private static boolean isJsonSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }
}
