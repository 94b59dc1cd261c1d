package dev.meterline.store;

import org.postgresql.copy.CopyIn;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;

/**
 * Rows in PostgreSQL's binary {@code COPY} format, buffered and sent to a {@link CopyIn} a buffer at a time: the
 * header, then per row its field count and each field as a length and the value's bytes in network order.
 */
final class CopyRows {

    /** Bytes collected before they go to the server; large enough that a send costs little per row. */
    static final int BUFFER_BYTES = 1 << 16;

    private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};

    private final CopyIn copy;
    private final byte[] buf = new byte[BUFFER_BYTES];
    private int n;

    /** Starts the stream on {@code copy} with the format's header (no flags, no header extension). */
    CopyRows(CopyIn copy) {
        this.copy = copy;
        System.arraycopy(SIGNATURE, 0, buf, 0, SIGNATURE.length);
        n = SIGNATURE.length;
        int32(0);
        int32(0);
    }

    /** Begins a row of {@code fields} fields. */
    void row(int fields) throws SQLException {
        room(2);
        buf[n++] = (byte) (fields >>> 8);
        buf[n++] = (byte) fields;
    }

    void int8(long v) throws SQLException {
        room(12);
        int32(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            buf[n++] = (byte) (v >>> shift);
        }
    }

    void float8(double v) throws SQLException {
        int8(Double.doubleToRawLongBits(v));
    }

    /** A float8, or NULL for NaN, as the prepared statements store it. */
    void float8OrNull(double v) throws SQLException {
        if (Double.isNaN(v)) {
            nul();
        } else {
            float8(v);
        }
    }

    void bool(boolean v) throws SQLException {
        room(5);
        int32(1);
        buf[n++] = (byte) (v ? 1 : 0);
    }

    void nul() throws SQLException {
        room(4);
        int32(-1);
    }

    /** A text value given as its UTF-8 bytes. */
    void bytes(byte[] v) throws SQLException {
        bytes(v, 0, v.length);
    }

    /** A text value given as the UTF-8 bytes of {@code v} from {@code at}, {@code length} of them. */
    void bytes(byte[] v, int at, int length) throws SQLException {
        room(4);
        int32(length);
        if (length > buf.length - n) {
            send();
            if (length > buf.length) {
                copy.writeToCopy(v, at, length);
                return;
            }
        }
        System.arraycopy(v, at, buf, n, length);
        n += length;
    }

    void text(String v) throws SQLException {
        bytes(v.getBytes(StandardCharsets.UTF_8));
    }

    /** Ends the stream and returns the number of rows the server took. */
    long finish() throws SQLException {
        room(2);
        buf[n++] = (byte) 0xff;
        buf[n++] = (byte) 0xff;
        send();
        return copy.endCopy();
    }

    /** Gives up the stream, for when writing it failed part way. */
    void cancel() {
        if (copy.isActive()) {
            try {
                copy.cancelCopy();
            } catch (SQLException e) {
                // The connection's transaction is rolled back by the caller either way.
            }
        }
    }

    private void int32(int v) {
        buf[n++] = (byte) (v >>> 24);
        buf[n++] = (byte) (v >>> 16);
        buf[n++] = (byte) (v >>> 8);
        buf[n++] = (byte) v;
    }

    private void room(int bytes) throws SQLException {
        if (buf.length - n < bytes) {
            send();
        }
    }

    private void send() throws SQLException {
        if (n > 0) {
            copy.writeToCopy(buf, 0, n);
            n = 0;
        }
    }
}
