package dev.meterline.ingest;

import io.netty.buffer.ByteBuf;

/**
 * The first line of a TCP connection while authentication is on: {@code {"auth":"token"}}. Collects it (at most
 * {@value #MAX_BYTES} bytes) across reads, checks it once, and leaves the bytes after it to the line decoder.
 */
final class AuthLine {

    /** Longest auth line accepted, newline excluded. */
    static final int MAX_BYTES = 4096;

    enum State { PENDING, ACCEPTED, REFUSED }

    private final IngestCodec codec;
    private final Authenticator auth;
    private final byte[] line = new byte[MAX_BYTES + 1];
    private int length;
    private State state = State.PENDING;

    AuthLine(IngestCodec codec, Authenticator auth) {
        this.codec = codec;
        this.auth = auth;
    }

    State state() {
        return state;
    }

    /** Consumes the auth line's bytes from {@code buf} (only those); returns the state afterwards. */
    State offer(ByteBuf buf) {
        if (state != State.PENDING) {
            return state;
        }
        while (buf.isReadable()) {
            byte b = buf.readByte();
            if (b == '\n') {
                int len = length > 0 && line[length - 1] == '\r' ? length - 1 : length;
                state = auth.accepts(codec.authToken(line, len)) ? State.ACCEPTED : State.REFUSED;
                return state;
            }
            if (length == line.length) {
                state = State.REFUSED;
                return state;
            }
            line[length++] = b;
        }
        return state;
    }
}
