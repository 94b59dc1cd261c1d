package dev.meterline.export;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.compression.Snappy;

/**
 * Snappy block format (never the framed one), as remote write requires: the uncompressed length as a varint, then
 * the compressed elements. Netty's raw codec compresses each 64 KiB fragment on its own, as the reference
 * implementation does, so copies never reach across fragments and the fragments' elements join into one block.
 */
final class SnappyBlock {

    /** The reference implementation's block size; Netty's encoder keeps offsets in 16 bits. */
    static final int FRAGMENT = 1 << 16;

    /** Its hash table is kept (per thread) from fragment to fragment rather than allocated for each. */
    private final Snappy snappy = Snappy.withHashTableReuse();
    private final ByteBuf fragment = Unpooled.buffer(FRAGMENT + FRAGMENT / 6 + 32);
    /** The block as it is written, kept from request to request; the result is an exact copy. */
    private final ByteBuf out = Unpooled.buffer(FRAGMENT);

    /** Compresses {@code [0, length)} of {@code in}. Not thread-safe: one instance per thread. */
    byte[] compress(byte[] in, int length) {
        out.clear();
        writeVarint(out, length);
        for (int off = 0; off < length; off += FRAGMENT) {
            int n = Math.min(FRAGMENT, length - off);
            fragment.clear();
            snappy.reset();
            snappy.encode(Unpooled.wrappedBuffer(in, off, n), fragment, n);
            // Netty writes the fragment's own length first: skip it, the block has one length in front.
            while ((fragment.readByte() & 0x80) != 0) {
                // continuation bytes of the varint
            }
            out.writeBytes(fragment);
        }
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        return bytes;
    }

    private static void writeVarint(ByteBuf out, int v) {
        while ((v & ~0x7F) != 0) {
            out.writeByte((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.writeByte(v);
    }
}
