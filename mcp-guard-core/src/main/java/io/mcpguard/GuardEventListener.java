package io.mcpguard;

import java.util.List;

/**
 * Receives the guard's {@link GuardEvent}s. Called synchronously on the thread that made the decision: keep it quick
 * and hand slow work elsewhere. Exceptions are logged and ignored: a listener never changes a call's outcome.
 */
@FunctionalInterface
public interface GuardEventListener {

    /**
     * Handles one event.
     *
     * @param event the event
     */
    void onEvent(GuardEvent event);

    /**
     * Returns one listener that delivers each event to all of them in order; one that throws is logged and the others
     * still get the event.
     *
     * @param listeners the listeners
     * @return the combined listener
     */
    static GuardEventListener all(List<GuardEventListener> listeners) {
        List<GuardEventListener> copy = List.copyOf(listeners);
        return event -> {
            for (GuardEventListener listener : copy) {
                try {
                    listener.onEvent(event);
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(GuardEventListener.class).warn(
                            "Guard event listener {} failed on {}", listener, event.getClass().getSimpleName(), e);
                }
            }
        };
    }
}
