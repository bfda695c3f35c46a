package io.mcpguard.pipeline;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A call the transport gate admitted before handing the request to the SDK (in the waiting mode, the gate holds a
 * call that waits for a person, so that no request thread, concurrency slot or breaker permit waits with it). The
 * gate puts it in the request's transport context; the guarded handler claims it, once, for the very same call, and
 * goes on from where the gate left off. Nothing a client sends can create one. Unstable API.
 */
public final class Preadmitted {

    /** The transport context key the gate uses. */
    public static final String CONTEXT_KEY = "io.mcpguard.preadmitted";

    private final Call call;
    private final Start start;
    private final AtomicBoolean claimed = new AtomicBoolean();

    /**
     * Records what the pipeline decided for a call the gate admitted.
     *
     * @param call the call the gate started
     * @param start what the pipeline decided: {@link Start.Refused} or the admitted {@link Call}
     */
    public Preadmitted(Call call, Start start) {
        this.call = Objects.requireNonNull(call, "call");
        this.start = Objects.requireNonNull(start, "start");
        if (start instanceof Start.Waiting) {
            throw new IllegalArgumentException("a preadmitted call has been decided");
        }
    }

    /**
     * Claims the decision for the handler's call, if it is the same call (operation, name, arguments) and nobody
     * claimed it yet.
     *
     * @param fresh the call the handler was given
     * @return the decision, or {@code null}
     */
    Start claim(Call fresh) {
        if (fresh.operation() != call.operation() || !fresh.name().equals(call.name())
                || !Objects.equals(fresh.arguments(), call.arguments())) {
            return null;
        }
        return claimed.compareAndSet(false, true) ? start : null;
    }

    /**
     * The request left the SDK without the handler claiming the call (the SDK answered it itself): what the call
     * holds goes back, and it is recorded as never run.
     */
    public void unclaimed() {
        if (claimed.compareAndSet(false, true) && start instanceof Call admitted) {
            admitted.neverRan();
            admitted.release();
        }
    }
}
