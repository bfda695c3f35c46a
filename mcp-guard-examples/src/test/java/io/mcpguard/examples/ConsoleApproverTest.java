package io.mcpguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.approval.ApprovalDecision;
import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRequest;
import io.mcpguard.approval.Reversibility;
import io.mcpguard.identity.AgentIdentity;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The order server's out-of-band approver at its own terminal. */
class ConsoleApproverTest {

    static ApprovalRequest request(String id, String agent) {
        return new ApprovalRequest(id, AgentIdentity.builder(agent).build(), "issue_refund",
                "{\"amount\":250}", "0".repeat(64), "1".repeat(64), "2".repeat(64), "3".repeat(64),
                Reversibility.IRREVERSIBLE, "refunds above 100", 1, "", Instant.EPOCH, Instant.EPOCH.plusSeconds(300));
    }

    @Test
    void theOperatorListsApprovesAndDeniesAndCannotBeTheAgent() throws Exception {
        ApprovalQueue queue = ApprovalQueue.create();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ConsoleApprover console = ConsoleApprover.start(queue, "alice@example.com",
                new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8));
        CompletableFuture<ApprovalDecision> first = queue.requestApproval(request("A-1", "billing-agent"))
                .toCompletableFuture();
        CompletableFuture<ApprovalDecision> second = queue.requestApproval(request("A-2", "billing-agent"))
                .toCompletableFuture();

        assertThat(out.toString(StandardCharsets.UTF_8)).contains("Approval A-1: agent 'billing-agent' wants "
                + "issue_refund {\"amount\":250}", "approve A-1 <reason>");
        assertThat(console.answer("list")).contains("A-1 billing-agent issue_refund", "A-2 billing-agent");
        assertThat(console.answer("approve A-1 ticket 4711")).isEqualTo("A-1: decided");
        assertThat(first.get(5, TimeUnit.SECONDS).approvers()).containsExactly("alice@example.com");
        assertThat(console.answer("deny A-2")).isEqualTo("A-2: decided");
        assertThat(second.get(5, TimeUnit.SECONDS).approved()).isFalse();
        assertThat(console.answer("approve A-2")).isEqualTo("A-2: not pending");
        assertThat(console.answer("delete everything")).startsWith("usage:");
        assertThat(console.answer("list")).isEqualTo("nothing waits for approval");

        ConsoleApprover agentAtTheConsole = ConsoleApprover.start(queue, "billing-agent",
                new ByteArrayInputStream(new byte[0]), new PrintStream(new ByteArrayOutputStream(), true,
                        StandardCharsets.UTF_8));
        queue.requestApproval(request("A-3", "billing-agent"));
        assertThat(agentAtTheConsole.answer("approve A-3 me")).isEqualTo("A-3: self approval");
    }
}
