package io.mcpguard.transport;

import io.mcpguard.support.Clocks;
import io.mcpguard.support.LogSafe;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sessions the gate has seen opened, each bound to the agent that opened it. A request naming a session that
 * does not exist, has expired, or belongs to another agent is answered the same way. Sessions per agent are capped;
 * a session idle (no request, no open stream) for longer than the idle timeout expires, and its streams are closed.
 */
final class Sessions {

    private static final Logger log = LoggerFactory.getLogger(Sessions.class);

    private final int perAgent;
    private final long idleNanos;
    private final Clock clock;
    private final Map<String, Session> byId = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

    /** One session. */
    static final class Session {
        final String id;
        final String agentId;
        volatile long lastUsed;
        final Set<AsyncContext> streams = ConcurrentHashMap.newKeySet();

        Session(String id, String agentId, long now) {
            this.id = id;
            this.agentId = agentId;
            this.lastUsed = now;
        }
    }

    Sessions(int perAgent, Duration idle, Clock clock) {
        this.perAgent = perAgent;
        this.idleNanos = idle.toNanos();
        this.clock = clock;
    }

    /**
     * Returns the session if it exists and the agent opened it, marking it used; {@code null} otherwise.
     */
    Session owned(String id, String agentId) {
        if (id == null) {
            return null;
        }
        Session session = byId.get(id);
        if (session == null || !session.agentId.equals(agentId)) {
            return null;
        }
        session.lastUsed = Clocks.nanos(clock);
        return session;
    }

    /** Returns the agent that opened a session, or {@code null} if it does not exist. */
    String ownerOf(String id) {
        Session session = id == null ? null : byId.get(id);
        return session == null ? null : session.agentId;
    }

    /** Reserves room for one more session of the agent; {@code false} at the cap. */
    boolean reserve(String agentId) {
        AtomicInteger count = counts.computeIfAbsent(agentId, k -> new AtomicInteger());
        while (true) {
            int n = count.get();
            if (n >= perAgent) {
                return false;
            }
            if (count.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Gives back a reservation that did not become a session. */
    void unreserve(String agentId) {
        AtomicInteger count = counts.get(agentId);
        if (count != null && count.decrementAndGet() <= 0) {
            counts.remove(agentId, count);
        }
    }

    /** A reserved session was opened by the transport. */
    void opened(String id, String agentId) {
        Session previous = byId.putIfAbsent(id, new Session(id, agentId, Clocks.nanos(clock)));
        if (previous != null) {
            unreserve(agentId); // the transport reused an id: keep the first owner
        }
    }

    /** A session ended (deleted, or unknown to the transport): forget it and close its streams. */
    void closed(String id) {
        Session session = byId.remove(id);
        if (session != null) {
            unreserve(session.agentId);
            for (AsyncContext stream : session.streams) {
                complete(stream);
            }
        }
    }

    /** Tracks a stream the transport keeps open for a session, until it completes. */
    void attach(Session session, AsyncContext stream) {
        session.streams.add(stream);
        stream.addListener(new AsyncListener() {
            @Override
            public void onComplete(AsyncEvent event) {
                session.streams.remove(stream);
                session.lastUsed = Clocks.nanos(clock);
            }

            @Override
            public void onTimeout(AsyncEvent event) {
                session.streams.remove(stream);
            }

            @Override
            public void onError(AsyncEvent event) {
                session.streams.remove(stream);
            }

            @Override
            public void onStartAsync(AsyncEvent event) {
            }
        });
    }

    /**
     * Expires idle sessions: no request for the idle timeout and no open stream.
     *
     * @return how many expired
     */
    int sweep() {
        long now = Clocks.nanos(clock);
        int expired = 0;
        for (Session session : byId.values()) {
            if (session.streams.isEmpty() && now - session.lastUsed >= idleNanos) {
                log.debug("Session {} of agent '{}' expired after {} idle", LogSafe.text(session.id),
                        LogSafe.text(session.agentId),
                        Duration.ofNanos(idleNanos));
                closed(session.id);
                expired++;
            }
        }
        return expired;
    }

    int size() {
        return byId.size();
    }

    int count(String agentId) {
        AtomicInteger count = counts.get(agentId);
        return count == null ? 0 : count.get();
    }

    void closeAll() {
        for (String id : byId.keySet()) {
            closed(id);
        }
    }

    private static void complete(AsyncContext stream) {
        try {
            stream.complete();
        } catch (RuntimeException e) {
            // already completed
        }
    }
}
