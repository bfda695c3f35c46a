package io.mcpguard.audit;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.approval.ApprovalDecision;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.breaker.BreakerRule;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit trail through a real guarded SDK server, the hash chain, its verifier and tampering. */
class AuditTrailTest {

    static final AgentIdentity SUPPORT = AgentIdentity.builder("support-bot").scopes("orders")
            .credentialId("key-support-1").runId("run-7").build();
    static final AgentIdentity BILLING = AgentIdentity.builder("billing-agent").scopes("orders", "refunds")
            .credentialId("key-billing-1").build();

    static final KeyPair KEYS = AuditKeys.generate();

    @TempDir
    Path dir;

    static Policy policy() {
        return Policy.builder()
                .scope("orders", ToolMatcher.names("get_order", "failing"))
                .scope("refunds", ToolMatcher.names("issue_refund"))
                .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund")))
                .circuitBreaker(BreakerRule.forTools(ToolMatcher.names("failing")).slidingWindowSize(1)
                        .minimumNumberOfCalls(1))
                .build();
    }

    static List<McpServerFeatures.SyncToolSpecification> tools() {
        return List.of(Tools.echo("get_order"),
                new McpServerFeatures.SyncToolSpecification(Tools.bareTool("issue_refund"),
                        (e, r) -> Tools.text("refunded")),
                new McpServerFeatures.SyncToolSpecification(Tools.tool("failing"), (e, r) -> {
                    throw new IllegalStateException("down");
                }));
    }

    /** Runs a little story through a guarded server writing a signed chain, and closes the guard. */
    Path story() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        McpGuard guard = McpGuard.builder().policy(policy())
                .audit(JsonLinesAuditSink.builder(file).signingKey(KEYS.getPrivate(), "ops-2026").checkpointEvery(5)
                        .build())
                .approvals(request -> CompletableFuture.completedFuture(
                        ApprovalDecision.approve("alice@example.com", "ticket 4711")))
                .build();
        try (GuardedInMemory server = new GuardedInMemory(guard, tools())) {
            McpSyncClient support = server.session(SUPPORT);
            McpSyncClient billing = server.session(BILLING);
            support.listTools();
            support.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")));
            catchThrowable(() -> support.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-1"))));
            support.callTool(new CallToolRequest("failing", Map.of("id", "x")));
            billing.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-9")));
        }
        return file;
    }

    @Test
    void everyDecisionIsRecordedInASignedChainThatVerifies() throws Exception {
        Path file = story();

        AuditVerifier.Result result = AuditVerifier.verify(file, KEYS.getPublic());

        assertThat(result.ok()).as(result.toString()).isTrue();
        assertThat(result.signedCheckpoints()).isGreaterThanOrEqualTo(2);
        AuditQuery query = AuditQuery.load(file);
        assertThat(query.all()).extracting(r -> r.get("type")).contains("list", "call.decision",
                "call.outcome", "approval.requested", "approval.granted", "approval.consumed", "breaker.state");
        List<Map<String, Object>> support = query.forAgent("support-bot");
        assertThat(support).extracting(r -> r.get("type") + ":" + r.getOrDefault("decision",
                r.getOrDefault("outcome", r.get("listed")))).containsExactly(
                        "list:2", "call.decision:allow", "call.outcome:success",
                        "call.decision:deny", "call.decision:allow", "breaker.state:null", "call.outcome:tool_error");
        assertThat(support.get(5)).as("the failure opened the agent's own breaker for the tool")
                .containsEntry("target", "failing").containsEntry("to", "OPEN");
        assertThat(support.get(3)).containsEntry("reason", "out_of_scope").containsEntry("step", "scope");
        assertThat(support.get(1)).containsEntry("credentialId", "key-support-1").containsEntry("runId", "run-7")
                .containsEntry("policySha256", policy().fingerprint())
                .containsKey("argumentsSha256").doesNotContainKey("arguments");
        assertThat(support.get(6).get("errorId").toString()).matches("E-[0-9a-f]{12}");
        assertThat(query.forRun("run-7")).hasSize(6);
        assertThat(query.forAgent("billing-agent")).extracting(r -> r.get("type")).containsExactly(
                "approval.requested", "approval.granted", "approval.consumed", "call.decision", "call.outcome");
        assertThat(query.forAgent("billing-agent").get(0)).containsKey("actionDigest").containsEntry("kind", "person")
                .containsEntry("approvers", 1);
        assertThat(query.forAgent("billing-agent").get(1)).containsEntry("approvers", "alice@example.com")
                .containsEntry("reason", "ticket 4711");
        assertThat(query.forAgent("billing-agent").get(3)).containsEntry("approvalId",
                query.forAgent("billing-agent").get(0).get("approvalId"));
        assertThat(query.touched("billing-agent")).singleElement().asString().contains("issue_refund", "success");
    }

    static List<String> lines(Path file) throws Exception {
        return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    static AuditVerifier.Result verifyLines(Path file, List<String> lines) throws Exception {
        Files.write(file, lines, StandardCharsets.UTF_8);
        return AuditVerifier.verify(file, KEYS.getPublic());
    }

    @Test
    void anEditedFieldIsDetectedAndLocated() throws Exception {
        Path file = story();
        List<String> lines = lines(file);
        int target = indexOf(lines, "\"decision\":\"deny\"");
        lines.set(target, lines.get(target).replace("\"decision\":\"deny\"", "\"decision\":\"allow\""));

        AuditVerifier.Result result = verifyLines(file, lines);

        assertThat(result.ok()).isFalse();
        assertThat(result.problemLine()).isEqualTo(target + 1);
        assertThat(result.problem()).contains("does not match its hash");
    }

    @Test
    void aDeletedLineIsDetectedAndLocated() throws Exception {
        Path file = story();
        List<String> lines = lines(file);
        lines.remove(3);

        AuditVerifier.Result result = verifyLines(file, lines);

        assertThat(result.ok()).isFalse();
        assertThat(result.problemLine()).isEqualTo(4);
        assertThat(result.problem()).contains("sequence 5 where 4 was expected", "removed");
    }

    @Test
    void swappedLinesAreDetected() throws Exception {
        Path file = story();
        List<String> lines = lines(file);
        Collections.swap(lines, 2, 3);

        AuditVerifier.Result result = verifyLines(file, lines);

        assertThat(result.ok()).isFalse();
        assertThat(result.problemLine()).isEqualTo(3);
    }

    @Test
    void anInsertedLineIsDetected() throws Exception {
        Path file = story();
        List<String> lines = lines(file);
        lines.add(2, lines.get(2));

        AuditVerifier.Result result = verifyLines(file, lines);

        assertThat(result.ok()).isFalse();
        assertThat(result.problemLine()).isEqualTo(4);
        assertThat(result.problem()).contains("inserted");
    }

    @Test
    void aForgedLineAppendedWithAValidHashIsDetectedByTheMissingSignature() throws Exception {
        Path file = story();
        List<String> lines = lines(file);
        // The attacker knows the format and computes a perfectly chained line: only the signature is out of reach.
        Map<String, Object> last = parse(lines.get(lines.size() - 1));
        Map<String, Object> forged = new java.util.LinkedHashMap<>();
        forged.put("seq", ((Number) last.get("seq")).longValue() + 1);
        forged.put("prev", last.get("hash"));
        forged.put("time", "2026-11-23T00:00:00Z");
        forged.put("type", "call.decision");
        forged.put("agentId", "support-bot");
        forged.put("decision", "allow");
        forged.put("hash", AuditChain.hash(forged));
        lines.add(io.mcpguard.support.CanonicalJson.ofOrdered(forged));

        AuditVerifier.Result result = verifyLines(file, lines);

        assertThat(result.ok()).isFalse();
        assertThat(result.status()).isEqualTo(AuditVerifier.Status.INCOMPLETE);
        assertThat(result.problem()).contains("does not end with a close checkpoint",
                "cannot be authenticated");
    }

    @Test
    void aFileCutAtALineIsIncompleteNotTampered() throws Exception {
        Path file = story();
        List<String> lines = lines(file);

        AuditVerifier.Result result = verifyLines(file, lines.subList(0, lines.size() - 3));

        assertThat(result.status()).isEqualTo(AuditVerifier.Status.INCOMPLETE);
        assertThat(result.problem()).contains("stopped (a crash)", "cut from its end");
    }

    @Test
    void aRecordCutInTheMiddleIsACrashAndTheNextWriterRecoversFromItSigned() throws Exception {
        Path file = story();
        byte[] bytes = Files.readAllBytes(file);
        List<String> lines = lines(file);
        int keep = lines.size() - 2;
        int cutAt = 0;
        for (int i = 0; i < keep; i++) {
            cutAt += lines.get(i).getBytes(StandardCharsets.UTF_8).length + 1;
        }
        cutAt += 25; // twenty-five bytes into the next record, as a kill -9 mid-write leaves it
        Files.write(file, java.util.Arrays.copyOf(bytes, cutAt));

        AuditVerifier.Result crashed = AuditVerifier.verify(file, KEYS.getPublic());
        assertThat(crashed.status()).isEqualTo(AuditVerifier.Status.INCOMPLETE);
        assertThat(crashed.problemLine()).isEqualTo(keep + 1);
        assertThat(crashed.problem()).contains("unfinished record (25 bytes)", "mid-write");

        JsonLinesAuditSink.builder(file).signingKey(KEYS.getPrivate(), "ops-2026").build().close();
        AuditVerifier.Result recovered = AuditVerifier.verify(file, KEYS.getPublic());
        assertThat(recovered.ok()).as(recovered.toString()).isTrue();
        assertThat(recovered.notes()).singleElement().asString()
                .contains("crashed mid-record at line " + (keep + 1), "25 bytes");

        // The same cut line, but with bytes changed, is no longer what the recovery checkpoint names: tampering.
        List<String> after = lines(file);
        after.set(keep, after.get(keep).replace('"', '\''));
        assertThat(verifyLines(file, after).status()).isEqualTo(AuditVerifier.Status.TAMPERED);
    }

    @Test
    void aWriterStoppedBetweenRecordsIsRecoveredWithASignedNote() throws Exception {
        Path file = story();
        List<String> lines = lines(file);
        Files.write(file, lines.subList(0, lines.size() - 1), StandardCharsets.UTF_8); // no close checkpoint

        JsonLinesAuditSink.builder(file).signingKey(KEYS.getPrivate(), "ops-2026").build().close();

        AuditVerifier.Result result = AuditVerifier.verify(file, KEYS.getPublic());
        assertThat(result.ok()).as(result.toString()).isTrue();
        assertThat(result.notes()).singleElement().asString().contains("stopped without closing the file");
    }

    @Test
    void withoutAKeyTheVerifierNeverReportsSuccess() throws Exception {
        Path file = story();

        AuditVerifier.Result chainOnly = AuditVerifier.verifyChainOnly(file);

        assertThat(chainOnly.ok()).isFalse();
        assertThat(chainOnly.status()).isEqualTo(AuditVerifier.Status.SIGNATURES_NOT_CHECKED);
        assertThat(chainOnly.toString()).contains("SIGNATURES NOT CHECKED");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AuditVerifier.verify(file, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("signatures are always checked");
    }

    @Test
    void aRewrittenFileDoesNotVerifyWithTheOperatorsKey() throws Exception {
        Path file = story();

        assertThat(AuditVerifier.verify(file, AuditKeys.generate().getPublic()).problem())
                .contains("signature does not verify");
    }

    @Test
    void theCommandLineVerifierExitCodesTellEachVerdictApart() throws Exception {
        Path file = story();
        Path pem = dir.resolve("audit.pub");
        Files.writeString(pem, AuditKeys.toPem(KEYS.getPublic()));

        assertThat(runVerifier(file.toString(), pem.toString())).isEqualTo("0 OK:");
        assertThat(runVerifier(file.toString())).as("no key: a usage error, not a verdict").startsWith("2 usage:");
        assertThat(runVerifier("--no-signatures", file.toString())).isEqualTo("3 CHAIN INTACT, SIGNATURES NOT CHECKED:");
        List<String> lines = lines(file);
        Files.write(file, lines.subList(0, lines.size() - 1));
        assertThat(runVerifier(file.toString(), pem.toString())).isEqualTo("4 INCOMPLETE");
        lines.remove(1);
        Files.write(file, lines);
        assertThat(runVerifier(file.toString(), pem.toString())).isEqualTo("1 TAMPERED");
        assertThat(runVerifier("--no-signatures", file.toString())).isEqualTo("1 TAMPERED");
    }

    /** Runs the verifier as a real subprocess; returns its exit code and the first word(s) of its verdict. */
    static String runVerifier(String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                AuditVerifier.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String verdict = output.startsWith("OK:") ? "OK:" : output.startsWith("CHAIN INTACT, SIGNATURES NOT CHECKED:")
                ? "CHAIN INTACT, SIGNATURES NOT CHECKED:" : output.startsWith("INCOMPLETE") ? "INCOMPLETE"
                : output.startsWith("TAMPERED") ? "TAMPERED" : output.startsWith("usage:") ? "usage:" : output;
        return process.exitValue() + " " + verdict;
    }

    @Test
    void manyAgentsAtOnceProduceAChainThatVerifiesAndLosesNothing() throws Exception {
        Path file = dir.resolve("concurrent.jsonl");
        McpGuard guard = McpGuard.builder().policy(policy())
                .audit(JsonLinesAuditSink.builder(file).signingKey(KEYS.getPrivate(), "k").checkpointEvery(64).build())
                .build();
        int agents = 16;
        int callsEach = 25;
        try (GuardedInMemory server = new GuardedInMemory(guard, tools())) {
            ExecutorService pool = Executors.newFixedThreadPool(agents);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int a = 0; a < agents; a++) {
                    McpSyncClient client = server.session(AgentIdentity.builder("agent-" + a).scopes("orders").build());
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < callsEach; i++) {
                            client.callTool(new CallToolRequest("get_order", Map.of("id", "o-" + i)));
                        }
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(guard.auditCounts()[1]).as("lost").isZero();
        }

        assertThat(AuditVerifier.verify(file, KEYS.getPublic()).ok()).isTrue();
        AuditQuery query = AuditQuery.load(file);
        assertThat(query.all()).filteredOn(r -> "call.outcome".equals(r.get("type"))).hasSize(agents * callsEach);
        assertThat(query.forAgent("agent-3")).hasSize(2 * callsEach);
    }

    @Test
    void appendingToAnExistingFileContinuesItsChain() throws Exception {
        Path file = dir.resolve("continued.jsonl");
        for (int run = 0; run < 2; run++) {
            try (JsonLinesAuditSink sink = JsonLinesAuditSink.builder(file).signingKey(KEYS.getPrivate(), "k")
                    .build()) {
                sink.write(new AuditRecord.BreakerStateChanged(new AuditRecord.Context(java.time.Instant.now(), null,
                        null, null, "tools/call", "t", null, null, null, null), "CLOSED", "OPEN"));
            }
        }

        AuditVerifier.Result result = AuditVerifier.verify(file, KEYS.getPublic());
        assertThat(result.ok()).as(result.toString()).isTrue();
        assertThat(result.records()).isEqualTo(4);
    }

    /** A sink that blocks until released, to fill the buffer. */
    static final class StuckSink implements AuditSink {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch entered = new CountDownLatch(1);
        final List<AuditRecord> written = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void write(AuditRecord record) throws Exception {
            entered.countDown();
            release.await(30, TimeUnit.SECONDS);
            written.add(record);
        }
    }

    @Test
    void aFullBufferRefusesCallsWhenFailingClosed() throws Exception {
        StuckSink sink = new StuckSink();
        McpGuard guard = McpGuard.builder().policy(policy()).audit(sink)
                .auditBuffer(2, AuditOverflow.FAIL_CLOSED).build();
        try (GuardedInMemory server = new GuardedInMemory(guard, tools())) {
            McpSyncClient support = server.session(SUPPORT);
            List<String> reasons = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                reasons.add(reason(support.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")))));
                assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(reasons).contains("audit_unavailable");
            assertThat(reasons.get(0)).isEqualTo("ok");
            sink.release.countDown();
        }
        assertThat(guard.auditCounts()[1]).as("records that did not fit are counted").isPositive();
    }

    @Test
    void aFullBufferDropsRecordsButLetsCallsRunWhenConfiguredTo() throws Exception {
        StuckSink sink = new StuckSink();
        McpGuard guard = McpGuard.builder().policy(policy()).audit(sink).auditBuffer(2, AuditOverflow.DROP).build();
        try (GuardedInMemory server = new GuardedInMemory(guard, tools())) {
            McpSyncClient support = server.session(SUPPORT);
            for (int i = 0; i < 6; i++) {
                assertThat(reason(support.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")))))
                        .isEqualTo("ok");
            }
            sink.release.countDown();
        }
        long[] counts = guard.auditCounts();
        assertThat(counts[1]).as("lost").isPositive();
        List<AuditRecord.Gap> gaps = sink.written.stream().filter(r -> r instanceof AuditRecord.Gap)
                .map(r -> (AuditRecord.Gap) r).toList();
        assertThat(gaps).as("the losses are in the trail as gap records").isNotEmpty();
        assertThat(gaps.stream().mapToLong(AuditRecord.Gap::lost).sum()).isEqualTo(counts[1]);
        assertThat(counts[0] - gaps.size() + counts[1]).as("every record is written or counted as lost")
                .isEqualTo(12);
    }

    @Test
    void byDefaultAFullBufferRefusesCallsThatCanChangeSomethingAndServesReadOnlyOnesWithAGapRecord()
            throws Exception {
        StuckSink sink = new StuckSink();
        McpGuard guard = McpGuard.builder().policy(policy()).audit(sink).auditBuffer(2, AuditOverflow.REFUSE_WRITES)
                .approvals(request -> CompletableFuture.completedFuture(ApprovalDecision.approve("alice", "ok")))
                .build();
        try (GuardedInMemory server = new GuardedInMemory(guard, tools())) {
            McpSyncClient support = server.session(SUPPORT);
            McpSyncClient billing = server.session(BILLING);
            assertThat(reason(support.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")))))
                    .isEqualTo("ok");
            assertThat(sink.entered.await(10, TimeUnit.SECONDS)).as("the writer is stuck").isTrue();
            for (int i = 0; i < 6; i++) {
                assertThat(reason(support.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")))))
                        .as("a read-only call is served").isEqualTo("ok");
            }
            assertThat(reason(billing.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-9")))))
                    .as("an irreversible call is refused while the trail cannot record it")
                    .isEqualTo("audit_unavailable");
            sink.release.countDown();
        }
        assertThat(sink.written.stream().filter(r -> r instanceof AuditRecord.Gap)
                .mapToLong(r -> ((AuditRecord.Gap) r).lost()).sum()).as("every loss is in a gap record")
                .isEqualTo(guard.auditCounts()[1]).isPositive();
    }

    // A failing sink refusing calls until it writes again: ChainShapesTest, through all four server shapes.

    static int indexOf(List<String> lines, String needle) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(needle)) {
                return i;
            }
        }
        throw new AssertionError("no line contains " + needle);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> parse(String line) throws Exception {
        return io.modelcontextprotocol.json.McpJsonDefaults.getMapper().readValue(line, Map.class);
    }
}
