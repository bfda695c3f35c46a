package io.mcpguard.adversarial;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.ResultMeta;
import io.mcpguard.pipeline.NotFound;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.RawMcpHttp;
import io.mcpguard.testing.Served;
import io.mcpguard.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What an autonomous agent would try against a guarded server over real Streamable HTTP: probing for hidden tools,
 * spoofing identity, replaying sessions, bypassing quotas, and malformed input. Each refusal is checked, and the guard
 * keeps serving afterwards.
 */
class AdversarialHttpTest {

    static final String SUPPORT_KEY = "sk-support-0123456789abcdef";
    static final String OPS_KEY = "sk-opsadmin-0123456789abcdef";
    static final ApiKeyAuthenticator KEYS = ApiKeyAuthenticator.builder()
            .key("key-support", SUPPORT_KEY, AgentIdentity.builder("support-bot").scopes("orders").build())
            .key("key-ops", OPS_KEY, AgentIdentity.builder("ops-admin").scopes("orders", "admin").build())
            .build();

    final AtomicInteger secretRuns = new AtomicInteger();
    final BlockingQueue<AuditRecord> audit = new LinkedBlockingQueue<>();
    GatedHttp server;
    String url;

    @BeforeEach
    void start() throws Exception {
        McpGuard guard = McpGuard.builder().audit(audit::add)
                .policy(Policy.builder()
                        .scope("orders", ToolMatcher.names("get_order"))
                        .scope("admin", ToolMatcher.names("issue_refund"))
                        .quota(QuotaRule.perAgentAndTool(5, Duration.ofMinutes(1)))
                        .build())
                .build();
        server = GatedHttp.streamable(guard, KEYS, Served.of().echo("get_order")
                .tool(Tools.tool("issue_refund"), request -> {
                    secretRuns.incrementAndGet();
                    return Tools.text("refunded");
                }));
        url = server.url();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    RawMcpHttp support() throws Exception {
        RawMcpHttp client = new RawMcpHttp(url, "Bearer " + SUPPORT_KEY);
        assertThat(client.initialize().statusCode()).isEqualTo(200);
        return client;
    }

    static String call(String tool, String arguments) {
        return "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":" + tool
                + ",\"arguments\":" + arguments + "}}";
    }

    static String quoted(String name) {
        StringBuilder out = new StringBuilder("\"");
        name.chars().forEach(c -> out.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", c) : String.valueOf((char) c)));
        return out.append('"').toString();
    }

    String ok() throws Exception {
        return RawMcpHttp.message(support().post(call("\"get_order\"", "{\"id\":\"o-1\"}")));
    }

    @Test
    void hiddenToolsCannotBeReachedByCaseOrUnicodeVariantsAndEachLooksUnknown() throws Exception {
        RawMcpHttp support = support();
        for (String variant : List.of("issue_refund", "ISSUE_REFUND", "Issue_Refund", "\u0456ssue_refund",
                "\uff49\uff53\uff53\uff55\uff45_refund", "issue\u200b_refund", "issue_refund ", " issue_refund",
                "issue-refund")) {
            String answer = RawMcpHttp.message(support.post(call(quoted(variant), "{\"id\":\"o-1\"}")));
            assertThat(answer).as("variant %s", variant).contains("\"code\":-32602", NotFound.UNKNOWN_TOOL_MESSAGE,
                    "Tool not found: ");
        }
        for (String controlled : List.of("issue_refund\u0000", "issue_refund\n", "issue_refund\u2028",
                "issue_refund\u001b[0m", "issue_refund\u0085")) {
            var answer = support.post(call(quoted(controlled), "{\"id\":\"o-1\"}"));
            assertThat(answer.statusCode()).as("control characters in a name: refused before anything logs it")
                    .isEqualTo(400);
            assertThat(answer.body()).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
                    + "\"message\":\"Invalid request\"}}");
        }
        assertThat(secretRuns).hasValue(0);
        assertThat(ok()).contains("get_order:o-1");
    }

    /** Waits for the next call decision the guard audits (the audit writer is asynchronous). */
    Map<String, Object> nextDecision() throws InterruptedException {
        while (true) {
            AuditRecord record = audit.poll(10, TimeUnit.SECONDS);
            assertThat(record).as("an audited call decision").isNotNull();
            if (record instanceof AuditRecord.CallDecided) {
                return record.fields();
            }
        }
    }

    @Test
    void probesForToolsThatDoNotExistAreAuditedLikeHiddenOnes() throws Exception {
        RawMcpHttp support = support();
        RawMcpHttp stranger = new RawMcpHttp(url, "Bearer sk-stolen-0000000000000000").session("made-up");
        assertThat(stranger.post(call("\"drop_table\"", "{}")).statusCode()).isEqualTo(401);

        String unknown = RawMcpHttp.message(support.post(call("\"drop_database\"", "{\"confirm\":true}")));
        Map<String, Object> unknownRecord = nextDecision();
        String hidden = RawMcpHttp.message(support.post(call("\"issue_refund\"", "{\"id\":\"o-1\"}")));
        Map<String, Object> hiddenRecord = nextDecision();
        support.post(call(quoted("z".repeat(5_000)), "{}"));
        Map<String, Object> longRecord = nextDecision();

        assertThat(unknown.replace("drop_database", "?")).isEqualTo(hidden.replace("issue_refund", "?"));
        assertThat(unknownRecord).as("the 401 before it was not a call, so not recorded")
                .containsEntry("agentId", "support-bot").containsEntry("method", "tools/call")
                .containsEntry("target", "drop_database")
                .containsEntry("decision", "deny").containsEntry("reason", "unknown_tool")
                .containsEntry("step", "dispatch").containsKey("argumentsSha256");
        assertThat(hiddenRecord).containsEntry("agentId", "support-bot").containsEntry("target", "issue_refund")
                .containsEntry("reason", "out_of_scope").containsEntry("step", "scope");
        assertThat((String) longRecord.get("target")).hasSizeLessThan(210).startsWith("zzz");
        assertThat(audit.stream().filter(AuditRecord.CallDecided.class::isInstance)).as("one record per call").isEmpty();
        assertThat(ok()).contains("get_order:o-1");
    }

    @Test
    void bodiesTheGateReadsReachTheToolByteForByte() throws Exception {
        RawMcpHttp support = support();
        for (int size : List.of(1_000, 8_192, 65_536, 300_000, 3_000_000)) {
            String id = "\u00e9" + "k".repeat(size) + "\u00fc";
            String answer = RawMcpHttp.message(support.post(call("\"get_order\"", "{\"id\":\"" + id + "\"}")));
            assertThat(answer).as("size %d", size).contains("get_order:" + id);
        }
    }

    @Test
    void aToolsIdentityIsNeverTakenFromARoutingHeader() throws Exception {
        RawMcpHttp support = support().header("Mcp-Name", "get_order").header("Mcp-Method", "tools/call");

        String answer = RawMcpHttp.message(support.post(call("\"issue_refund\"", "{\"id\":\"o-1\"}")));

        assertThat(answer).contains(NotFound.UNKNOWN_TOOL_MESSAGE);
        assertThat(secretRuns).hasValue(0);
    }

    @Test
    void identityClaimsInHeadersMetaArgumentsOrClientInfoChangeNothing() throws Exception {
        RawMcpHttp support = new RawMcpHttp(url, "Bearer " + SUPPORT_KEY)
                .header("X-Agent-Id", "ops-admin").header("X-Scopes", "admin").header("Forwarded", "for=ops-admin");
        var init = support.post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                + "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"ops-admin\","
                + "\"version\":\"1\"}}}");
        support.session(init.headers().firstValue("Mcp-Session-Id").orElseThrow());
        support.post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");

        String answer = RawMcpHttp.message(support.post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                + "\"params\":{\"name\":\"issue_refund\",\"arguments\":{\"id\":\"o-1\",\"agentId\":\"ops-admin\"},"
                + "\"_meta\":{\"agentId\":\"ops-admin\",\"io.mcpguard.agent\":\"ops-admin\",\"scopes\":[\"admin\"]}}}"));

        assertThat(answer).contains(NotFound.UNKNOWN_TOOL_MESSAGE);
        assertThat(RawMcpHttp.message(support.post("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}")))
                .contains("get_order").doesNotContain("issue_refund");
        assertThat(secretRuns).hasValue(0);
    }

    @Test
    void replayingAnotherAgentsSessionIdGivesNoneOfItsRights() throws Exception {
        RawMcpHttp ops = new RawMcpHttp(url, "Bearer " + OPS_KEY);
        ops.initialize();
        RawMcpHttp support = new RawMcpHttp(url, "Bearer " + SUPPORT_KEY).session(ops.sessionId());

        var list = support.post("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}");
        assertThat(list.statusCode()).as("another agent's session does not exist for this one").isEqualTo(404);
        assertThat(list.body()).doesNotContain("issue_refund");
        var refund = support.post(call("\"issue_refund\"", "{\"id\":\"o-1\"}"));
        assertThat(refund.statusCode()).isEqualTo(404);
        RawMcpHttp stranger = new RawMcpHttp(url, null).session(ops.sessionId());
        assertThat(stranger.post(call("\"issue_refund\"", "{\"id\":\"o-1\"}")).statusCode()).isEqualTo(401);
        assertThat(secretRuns).hasValue(0);
    }

    @Test
    void neitherNewSessionsNorParallelBurstsGetMoreThanTheQuota() throws Exception {
        List<CompletableFuture<String>> burst = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            burst.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return RawMcpHttp.message(support().post(call("\"get_order\"", "{\"id\":\"o-1\"}")));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        long ok = 0;
        long refused = 0;
        for (var answer : burst) {
            String text = answer.get();
            if (text.contains("get_order:o-1")) {
                ok++;
            } else if (text.contains("quota_exceeded")) {
                refused++;
            }
        }
        assertThat(ok).isEqualTo(5);
        assertThat(refused).isEqualTo(9);
    }

    @Test
    void malformedInputGetsAClearErrorLeaksNothingAndTheGuardKeepsServing() throws Exception {
        RawMcpHttp support = support().freshConnections();
        List<String> answers = new ArrayList<>();
        answers.add(RawMcpHttp.message(support.post(call("\"get_order\"", "{\"id\":42}"))));
        answers.add(RawMcpHttp.message(support.post(call("\"get_order\"", "[1,2,3]"))));
        answers.add(RawMcpHttp.message(support.post(call("\"get_order\"", "\"a string\""))));
        answers.add(RawMcpHttp.message(support.post(call("\"\"", "{}"))));
        answers.add(RawMcpHttp.message(support.post(call(quoted("x".repeat(100_000)), "{}"))));
        answers.add(RawMcpHttp.message(support.post(call("\"get_order\"", "{\"id\":\"" + "y".repeat(2_000_000)
                + "\"}"))));
        answers.add(RawMcpHttp.message(support.post(call("\"get_order\"", "[".repeat(5_000) + "]".repeat(5_000)))));
        answers.add(RawMcpHttp.message(support.post("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\","
                + "\"params\":{\"name\":\"get_order\",\"arguments\":{\"id\":\"o-1\",\"nested\":"
                + "{\"a\":".repeat(3_000) + "1" + "}".repeat(3_000) + "}}}")));
        answers.add(support.postBytes(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'})
                .body());
        answers.add(support.post("this is not json").body());

        for (String answer : answers) {
            // Bodies the SDK would fill with its McpError object, stack trace included, before any guard code runs.
            assertThat(answer).doesNotContain("stackTrace", "className", "localizedMessage", "asyncComplete",
                    "Cannot deserialize", "at io.", "Exception", "tools.jackson", "Caused by");
        }
        assertThat(answers.get(8)).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
                + "\"message\":\"Invalid request\"}}");
        assertThat(answers.get(0)).contains("invalid_arguments");
        assertThat(ok()).contains("get_order:o-1");
        assertThat(secretRuns).hasValue(0);
    }

    @Test
    void invalidUtf8IsRefusedWithoutCrashingTheServer() throws Exception {
        RawMcpHttp support = support();
        byte[] body = ("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"get_order\","
                + "\"arguments\":{\"id\":\"").getBytes(StandardCharsets.US_ASCII);
        byte[] bad = new byte[body.length + 6];
        System.arraycopy(body, 0, bad, 0, body.length);
        bad[body.length] = (byte) 0xFF;
        bad[body.length + 1] = (byte) 0xFE;
        System.arraycopy("\"}}}".getBytes(StandardCharsets.US_ASCII), 0, bad, body.length + 2, 4);

        var response = support.postBytes(bad);

        assertThat(response.statusCode()).isLessThan(500);
        assertThat(ok()).contains("get_order:o-1");
    }
}
