package io.mcpguard.transport;

import io.mcpguard.support.LogSafe;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a stdio MCP server the way the MCP stdio transport says a server ends: when its client closes the server's
 * standard input, and when the process is told to stop (SIGTERM, Ctrl-C).
 *
 * <p>The SDK's {@code StdioServerTransportProvider} closes its session when its input ends, but nothing tells the
 * program that started it; a server whose {@code main} waits forever outlives its client. Give the transport the
 * watched stream, then let the lifecycle run the server until the end, when it closes what it was given exactly once:
 *
 * <pre>{@code
 * StdioLifecycle stdio = StdioLifecycle.of(System.in);
 * var transport = new StdioServerTransportProvider(mapper, stdio.input(), System.out);
 * McpSyncServer server = guard.install(McpServer.sync(transport), tools).build();
 * stdio.runUntilClosed(() -> { server.close(); guard.close(); });   // returns when the client is gone
 * }</pre>
 */
public final class StdioLifecycle {

    private static final Logger log = LoggerFactory.getLogger(StdioLifecycle.class);

    private final WatchedInput input;
    private final CountDownLatch ended = new CountDownLatch(1);

    private StdioLifecycle(InputStream in) {
        this.input = new WatchedInput(Objects.requireNonNull(in, "in"), ended);
    }

    /**
     * Watches a stream, usually {@code System.in}.
     *
     * @param in the server's input
     * @return the lifecycle
     */
    public static StdioLifecycle of(InputStream in) {
        return new StdioLifecycle(in);
    }

    /**
     * Returns the stream to give the stdio transport; reading its end (or a read failure) ends the server.
     *
     * @return the watched input
     */
    public InputStream input() {
        return input;
    }

    /**
     * Returns whether the input has ended.
     *
     * @return {@code true} once the client closed the input or a read failed
     */
    public boolean ended() {
        return ended.getCount() == 0;
    }

    /**
     * Blocks until the input ends or the process is told to stop, then runs {@code close} once. A shutdown hook runs
     * the same {@code close} if the process is stopped first (it then does not wait for the input).
     *
     * @param close what releases the server (close the server, then the guard, so the audit trail is flushed)
     * @throws InterruptedException if the waiting thread is interrupted (then {@code close} has run)
     */
    public void runUntilClosed(Runnable close) throws InterruptedException {
        Objects.requireNonNull(close, "close");
        AtomicBoolean done = new AtomicBoolean();
        Runnable once = () -> {
            if (done.compareAndSet(false, true)) {
                try {
                    close.run();
                } catch (RuntimeException e) {
                    log.warn("Closing the stdio server failed", LogSafe.throwable(e));
                }
            }
        };
        Thread hook = new Thread(once, "mcp-guard-stdio-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            ended.await();
        } finally {
            once.run();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: close already happened once
            }
        }
    }

    /** Counts the latch down at end of stream or on a read failure. */
    private static final class WatchedInput extends FilterInputStream {

        private final CountDownLatch ended;

        WatchedInput(InputStream in, CountDownLatch ended) {
            super(in);
            this.ended = ended;
        }

        @Override
        public int read() throws IOException {
            return watch(() -> super.read());
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return watch(() -> super.read(b, off, len));
        }

        @Override
        public void close() throws IOException {
            ended.countDown();
            super.close();
        }

        private int watch(Read read) throws IOException {
            try {
                int n = read.read();
                if (n < 0) {
                    ended.countDown();
                }
                return n;
            } catch (IOException | RuntimeException e) {
                ended.countDown();
                throw e;
            }
        }

        @FunctionalInterface
        private interface Read {
            int read() throws IOException;
        }
    }
}
