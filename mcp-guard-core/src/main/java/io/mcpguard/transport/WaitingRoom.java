package io.mcpguard.transport;

import io.mcpguard.support.LogSafe;
import io.mcpguard.Decision;
import io.mcpguard.ReasonCode;
import io.mcpguard.pipeline.Call;
import io.mcpguard.pipeline.Preadmitted;
import io.mcpguard.pipeline.Start;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the transport gate holds calls that wait for a person (the waiting mode). A held call occupies no request
 * thread (the request is asynchronous), no concurrency slot and no breaker permit. While it waits, the gate writes a
 * comment to its response stream every ping interval (an SSE comment, or white space before a JSON answer): a write
 * that fails means the client went away. A call whose client cancelled it ({@code notifications/cancelled}),
 * disconnected, or whose session ended never runs, whatever the approver says later: its approval is recorded as
 * abandoned. When the decision comes, the request is dispatched again to the SDK with the decision attached.
 */
final class WaitingRoom implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WaitingRoom.class);

    /** The request attribute of a held request's body, read again on its dispatch. */
    static final String HELD = "io.mcpguard.held";

    private final boolean sse;
    private final Duration pingInterval;
    private final Duration probeDelay;
    private final ScheduledExecutorService pinger;
    private final Map<String, Held> held = new ConcurrentHashMap<>();

    WaitingRoom(boolean sse, Duration pingInterval, Duration probeDelay) {
        this.sse = sse;
        this.pingInterval = pingInterval;
        this.probeDelay = probeDelay;
        this.pinger = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "mcp-guard-gate-waiting");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** What a held request carries to its dispatch. */
    record Body(byte[] bytes, java.nio.charset.Charset charset, String sessionId) {
    }

    /**
     * Holds a call that waits for a person.
     *
     * @param key the session and JSON-RPC id ({@code notifications/cancelled} names it)
     * @param agentId who may cancel it
     * @param call the gate's call
     * @param waiting what the pipeline answered
     * @param request the request
     * @param response the response
     * @param body what to serve again on dispatch
     * @param stillOpen whether the call's session still exists (checked before dispatch)
     */
    void hold(String key, String agentId, Call call, Start.Waiting waiting, HttpServletRequest request,
            HttpServletResponse response, Body body, java.util.function.BooleanSupplier stillOpen) {
        AsyncContext async = request.startAsync(request, response);
        async.setTimeout(0);
        Held h = new Held(key, agentId, call, waiting, async, response, stillOpen);
        if (key != null) {
            Held previous = held.putIfAbsent(key, h);
            if (previous != null) {
                key = null; // a client reusing a request id: this one cannot be cancelled by id
            }
        }
        request.setAttribute(HELD, body);
        async.addListener(h);
        try {
            h.open();
        } catch (IOException e) {
            h.gone("the client disconnected");
            return;
        }
        h.pings = pinger.scheduleWithFixedDelay(h::ping, pingInterval.toMillis(), pingInterval.toMillis(),
                TimeUnit.MILLISECONDS);
        waiting.next().whenComplete((next, failure) -> h.decided(next, failure));
    }

    /**
     * The client cancelled a request: if it is held, it never runs.
     *
     * @param key the session and JSON-RPC id
     * @param agentId who sent the cancellation
     * @return whether a held call was cancelled
     */
    boolean cancel(String key, String agentId) {
        Held h = key == null ? null : held.get(key);
        if (h == null || !h.agentId.equals(agentId)) {
            return false;
        }
        return h.gone("the client cancelled the call");
    }

    /**
     * Returns how many calls are held.
     *
     * @return the count
     */
    int size() {
        return held.size();
    }

    @Override
    public void close() {
        for (Held h : held.values()) {
            h.gone("the server is stopping");
        }
        pinger.shutdownNow();
    }

    /** One held call. Its state changes under its own lock. */
    private final class Held implements AsyncListener {
        final String key;
        final String agentId;
        final Call call;
        final Start.Waiting waiting;
        final AsyncContext async;
        final HttpServletResponse response;
        final java.util.function.BooleanSupplier stillOpen;
        volatile ScheduledFuture<?> pings;
        private PrintWriter writer;
        private boolean settled;

        Held(String key, String agentId, Call call, Start.Waiting waiting, AsyncContext async,
                HttpServletResponse response, java.util.function.BooleanSupplier stillOpen) {
            this.key = key;
            this.agentId = agentId;
            this.call = call;
            this.waiting = waiting;
            this.async = async;
            this.response = response;
            this.stillOpen = stillOpen;
        }

        /** Commits the response as the SDK will answer it, so that waiting can be written to. */
        synchronized void open() throws IOException {
            response.setStatus(200);
            response.setCharacterEncoding("UTF-8");
            if (sse) {
                response.setContentType("text/event-stream");
                response.setHeader("Cache-Control", "no-cache, no-transform");
                response.setHeader("X-Accel-Buffering", "no");
            } else {
                response.setContentType("application/json");
            }
            writer = response.getWriter();
            write();
        }

        private void write() throws IOException {
            writer.write(sse ? ": waiting for approval\n\n" : "\n");
            writer.flush();
            if (writer.checkError()) {
                throw new IOException("the client is gone");
            }
        }

        void ping() {
            synchronized (this) {
                if (settled) {
                    return;
                }
                try {
                    write();
                    return;
                } catch (IOException | RuntimeException e) {
                    // fall through: the client is gone
                }
            }
            gone("the client disconnected");
        }

        /** Ends the wait for good: returns whether this call did. */
        private synchronized boolean settle() {
            if (settled) {
                return false;
            }
            settled = true;
            ScheduledFuture<?> p = pings;
            if (p != null) {
                p.cancel(false);
            }
            if (key != null) {
                held.remove(key, this);
            }
            return true;
        }

        /** The caller is gone: the call never runs, and the request ends without an answer. */
        boolean gone(String why) {
            if (!settle()) {
                return false;
            }
            log.info("A call waiting for approval was abandoned: {}", why);
            try {
                waiting.abandon().accept(why);
            } finally {
                try {
                    async.complete();
                } catch (RuntimeException e) {
                    log.debug("Completing an abandoned request failed", LogSafe.throwable(e));
                }
            }
            return true;
        }

        /**
         * The decision came. An approved call runs only if its client is provably still there: the gate writes to
         * the stream, waits one probe delay (a peer that closed its socket answers the first write with a reset) and
         * writes again; a failed write abandons the call. Then the request is dispatched to the SDK with the decision,
         * unless the session ended meanwhile.
         */
        void decided(Start next, Throwable failure) {
            if (failure == null && next instanceof Call) {
                synchronized (this) {
                    if (settled) {
                        return;
                    }
                    try {
                        write();
                    } catch (IOException | RuntimeException e) {
                        // gone: handled below, outside the lock
                        next = null;
                    }
                }
                if (next == null) {
                    gone("the client disconnected before the decision");
                    return;
                }
                Start approved = next;
                try {
                    pinger.schedule(() -> probed(approved), probeDelay.toMillis(), TimeUnit.MILLISECONDS);
                } catch (RuntimeException e) {
                    gone("the server is stopping");
                }
                return;
            }
            dispatch(next, failure);
        }

        private void probed(Start approved) {
            synchronized (this) {
                if (settled) {
                    return;
                }
                try {
                    write();
                } catch (IOException | RuntimeException e) {
                    approved = null;
                }
            }
            if (approved == null) {
                gone("the client disconnected before the decision");
                return;
            }
            dispatch(approved, null);
        }

        private void dispatch(Start next, Throwable failure) {
            if (failure == null && next != null && !stillOpen.getAsBoolean()) {
                gone("the session ended");
                return;
            }
            if (!settle()) {
                return;
            }
            Start decided = next;
            if (failure != null || next == null || next instanceof Start.Waiting) {
                log.warn("Waiting for approval failed; refusing the call (fail closed)", LogSafe.throwable(failure));
                call.neverRan();
                decided = new Start.Refused(new Decision.Deny(ReasonCode.APPROVAL_DENIED, Decision.Step.APPROVAL,
                        "Call to '" + call.name() + "' was not approved."), waiting.approvalId(), false);
            }
            async.getRequest().setAttribute(McpGate.PREADMITTED_ATTRIBUTE, new Preadmitted(call, decided));
            try {
                async.dispatch();
            } catch (RuntimeException e) {
                log.warn("Dispatching a decided call failed; it does not run", LogSafe.throwable(e));
                if (decided instanceof Call admitted) {
                    admitted.neverRan();
                    admitted.release();
                }
            }
        }

        @Override
        public void onComplete(AsyncEvent event) {
            gone("the request ended");
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            gone("the request timed out");
        }

        @Override
        public void onError(AsyncEvent event) {
            gone("the client disconnected");
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // a new cycle starts on dispatch; this listener's part is over
        }
    }
}
