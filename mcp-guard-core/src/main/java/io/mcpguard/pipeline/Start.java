package io.mcpguard.pipeline;

import io.mcpguard.Decision;
import java.util.concurrent.CompletableFuture;

/**
 * What the admission steps decided for one call: refused, ready to run (the {@link Call} itself, admitted, to settle
 * when the handler ends), or waiting for a person's decision.
 */
public sealed interface Start permits Start.Refused, Call, Start.Waiting {

    /**
     * The call is refused; its span and audit records are written.
     *
     * @param deny the refusal
     * @param approvalId the approval it concerns, or {@code null}
     * @param hidden whether it must be answered exactly as a missing name (unknown caller, out of scope)
     */
    record Refused(Decision.Deny deny, String approvalId, boolean hidden) implements Start {

        /** An unknown caller: answered as a missing name. */
        static final Refused UNKNOWN_AGENT = new Refused(new Decision.Deny(io.mcpguard.ReasonCode.UNKNOWN_AGENT,
                Decision.Step.IDENTITY, NotFound.UNKNOWN_TOOL_MESSAGE), null, true);

        /** A caller without a grant: answered as a missing name. */
        static final Refused OUT_OF_SCOPE = new Refused(new Decision.Deny(io.mcpguard.ReasonCode.OUT_OF_SCOPE,
                Decision.Step.SCOPE, NotFound.UNKNOWN_TOOL_MESSAGE), null, true);
    }

    /**
     * The call waits for an approver (the waiting mode, or a client user's confirmation); the future completes with
     * {@link Refused} or the admitted {@link Call}. The call holds no concurrency slot or breaker permit meanwhile.
     *
     * @param approvalId the approval it waits for
     * @param next what follows the decision: {@link Refused} or the admitted {@link Call}
     * @param abandon called, with the reason, when the caller stops waiting (cancelled, disconnected): the call will
     *        never run, the approval is recorded as abandoned, and what the call charged goes back
     */
    record Waiting(String approvalId, CompletableFuture<Start> next, java.util.function.Consumer<String> abandon)
            implements Start {
    }
}
