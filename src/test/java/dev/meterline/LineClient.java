package dev.meterline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A blocking NDJSON client for tests: writes lines, reads reply lines, waits for sync acknowledgements. */
public final class LineClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Socket socket;
    private final OutputStream out;
    private final BufferedReader in;
    private final List<JsonNode> errors = new ArrayList<>();

    public LineClient(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setSoTimeout(60_000);
        out = socket.getOutputStream();
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    public LineClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.UTF_8));
    }

    public LineClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        return this;
    }

    /** Sends a sync and returns its acknowledgement; error lines read on the way are kept in {@link #errors()}. */
    public JsonNode sync(String id) throws IOException {
        send("{\"sync\":\"" + id + "\"}\n");
        out.flush();
        while (true) {
            JsonNode reply = readReply();
            if (reply == null) {
                throw new IOException("connection closed before sync " + id + " was acknowledged");
            }
            if (reply.has("synced")) {
                if (!reply.get("synced").asText().equals(id)) {
                    throw new IOException("expected sync " + id + ", got " + reply);
                }
                return reply;
            }
            errors.add(reply);
        }
    }

    /** Reads one reply line, or null at end of stream. */
    public JsonNode readReply() throws IOException {
        String line = in.readLine();
        return line == null ? null : JSON.readTree(line);
    }

    /** Error replies seen so far, in order. */
    public List<JsonNode> errors() {
        return errors;
    }

    /** Half-closes: no more input, replies can still be read. */
    public void shutdownOutput() throws IOException {
        out.flush();
        socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
