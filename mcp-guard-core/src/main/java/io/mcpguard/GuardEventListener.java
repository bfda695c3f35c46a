package io.mcpguard;

/**
 * Receives the guard's {@link GuardEvent}s. Called synchronously on the thread that made the decision: keep it quick
 * and hand slow work elsewhere. Exceptions are logged and ignored.
 */
@FunctionalInterface
public interface GuardEventListener {

    /**
     * Handles one event.
     *
     * @param event the event
     */
    void onEvent(GuardEvent event);
}
