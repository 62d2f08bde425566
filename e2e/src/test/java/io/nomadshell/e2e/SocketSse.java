package io.nomadshell.e2e;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.function.Predicate;

/**
 * The lightest SSE client there is, for tests that open a thousand: one plain HTTP/1.1 connection
 * read with blocking calls (on a virtual thread), the chunked body decoded by hand. {@link Sse} reads
 * the events it yields.
 */
final class SocketSse {
    private SocketSse() {}

    /** Reads {@code path} on 127.0.0.1:{@code port}; {@code opened} runs once the response's headers came. */
    static Sse.Read read(int port, String path, Runnable opened, Predicate<List<Sse.Event>> stop, Duration timeout) {
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            var in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            int status = Integer.parseInt(line(in).split(" ")[1]);
            boolean chunked = false;
            for (var header = line(in); !header.isEmpty(); header = line(in)) {
                chunked |= header.toLowerCase(Locale.ROOT).startsWith("transfer-encoding:") && header.contains("chunked");
            }
            opened.run();
            var events = new ArrayList<Sse.Event>();
            if (status != 200 || !chunked) {
                return new Sse.Read(status, events, "status " + status + (chunked ? "" : ", not chunked"));
            }
            Sse.parse(new ChunkedLines(in), events, stop);
            return new Sse.Read(200, events, "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One CRLF- or LF-ended line of the raw stream, without its end. */
    private static String line(InputStream in) throws IOException {
        var bytes = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("the connection ended mid-line");
            }
            if (b != '\r') {
                bytes.write(b);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The lines of a chunked body, up to its last (empty) chunk. */
    private static final class ChunkedLines implements Iterator<String> {
        private final InputStream in;
        private final ByteArrayOutputStream current = new ByteArrayOutputStream();
        private long leftInChunk;
        private boolean ended;
        private String next;

        ChunkedLines(InputStream in) {
            this.in = in;
        }

        @Override
        public boolean hasNext() {
            if (next == null && !ended) {
                next = advance();
            }
            return next != null;
        }

        @Override
        public String next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            var line = next;
            next = null;
            return line;
        }

        private String advance() {
            try {
                while (true) {
                    if (leftInChunk == 0) {
                        var size = line(in);
                        if (size.isEmpty()) {
                            size = line(in); // the CRLF that ended the last chunk
                        }
                        leftInChunk = Long.parseLong(size.split(";")[0].strip(), 16);
                        if (leftInChunk == 0) {
                            ended = true;
                            return null;
                        }
                    }
                    int b = in.read();
                    if (b < 0) {
                        ended = true;
                        return null;
                    }
                    leftInChunk--;
                    if (b == '\n') {
                        var line = current.toString(StandardCharsets.UTF_8);
                        current.reset();
                        return line;
                    }
                    if (b != '\r') {
                        current.write(b);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
