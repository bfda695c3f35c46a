package io.mcpguard.transport;

import io.mcpguard.support.LogSafe;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a request body that is still arriving without holding a container thread (servlet non-blocking I/O), within
 * a size limit and a deadline, then dispatches the request again with the body attached, so that the gate goes on
 * where it stopped. A body that grows past the limit gets 413, one that is too slow 408; both close the connection.
 */
final class BodyReader implements ReadListener, AsyncListener {

    private static final Logger log = LoggerFactory.getLogger(BodyReader.class);

    /** The request attribute that carries the body read, to the dispatch that follows. */
    static final String READ = "io.mcpguard.body";

    private final AsyncContext async;
    private final HttpServletResponse response;
    private final ServletInputStream in;
    private final int max;
    private final Runnable done;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private final byte[] buffer = new byte[8192];
    private final AtomicBoolean ended = new AtomicBoolean();

    private BodyReader(AsyncContext async, HttpServletResponse response, ServletInputStream in, int max,
            Runnable done) {
        this.async = async;
        this.response = response;
        this.in = in;
        this.max = max;
        this.done = done;
    }

    static void start(HttpServletRequest request, HttpServletResponse response, ServletInputStream in, int max,
            Duration timeout, Runnable done) {
        AsyncContext async = request.startAsync(request, response);
        async.setTimeout(timeout.toMillis());
        BodyReader reader = new BodyReader(async, response, in, max, done);
        async.addListener(reader);
        in.setReadListener(reader);
    }

    @Override
    public void onDataAvailable() throws IOException {
        while (in.isReady()) {
            int n = in.read(buffer);
            if (n < 0) {
                return;
            }
            if (body.size() + n > max) {
                fail(413);
                return;
            }
            body.write(buffer, 0, n);
        }
    }

    @Override
    public void onAllDataRead() {
        if (!end()) {
            return;
        }
        async.getRequest().setAttribute(READ, body.toByteArray());
        try {
            async.dispatch();
        } catch (RuntimeException e) {
            log.debug("Dispatching a request whose body was read failed", LogSafe.throwable(e));
        }
    }

    @Override
    public void onError(Throwable failure) {
        // The client went away while sending: nothing to answer.
        if (end()) {
            complete();
        }
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        fail(408);
    }

    @Override
    public void onError(AsyncEvent event) {
        onError(event.getThrowable());
    }

    @Override
    public void onComplete(AsyncEvent event) {
        end();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // the dispatch that follows starts its own cycle
    }

    private void fail(int status) {
        if (!end()) {
            return;
        }
        try {
            response.setHeader("Connection", "close");
            Responses.error(response, status, Responses.REFUSED, status == 413 ? "Request too large"
                    : "Request timeout");
        } catch (IOException | RuntimeException e) {
            log.debug("Answering a refused body failed", LogSafe.throwable(e));
        }
        complete();
    }

    private void complete() {
        try {
            async.complete();
        } catch (RuntimeException e) {
            log.debug("Completing a refused body failed", LogSafe.throwable(e));
        }
    }

    /** Ends the read once; gives the agent's slot back. */
    private boolean end() {
        if (!ended.compareAndSet(false, true)) {
            return false;
        }
        done.run();
        return true;
    }
}
