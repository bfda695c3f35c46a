package io.mcpguard.adversarial;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.ResultMeta;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.approval.Reversibility;
import io.mcpguard.breaker.BreakerRule;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.identity.HttpAuthenticator;
import io.mcpguard.policy.ArgumentCondition;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.Served;
import io.mcpguard.testing.Shape;
import io.mcpguard.testing.ShapedServer;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every place the guard calls a function the user supplied: when it throws, the outcome is the restrictive one. It
 * grants nothing, exempts nothing, and applies every limit and approval rule it could have applied.
 */
class FailClosedTest {

    static final AgentIdentity AGENT = AgentIdentity.builder("agent").scopes("all").build();
    static final ToolMatcher BROKEN = ToolMatcher.where("a matcher that throws", tool -> {
        throw new IllegalStateException("matcher bug");
    });

    final AtomicInteger runs = new AtomicInteger();
    final java.util.concurrent.CountDownLatch slowEntered = new java.util.concurrent.CountDownLatch(1);
    ShapedServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    McpSyncClient serve(Policy.Builder policy, Consumer<McpGuard.Builder> settings) {
        McpGuard.Builder guard = McpGuard.builder().policy(policy.build()).stateSweepInterval(null);
        settings.accept(guard);
        server = ShapedServer.start(Shape.SYNC, guard.build(), Served.of()
                .tool(Tools.tool("read_report"), request -> Tools.text("report " + runs.incrementAndGet()))
                .tool(McpSchema.Tool.builder().name("pay").inputSchema(Map.of("type", "object"))
                        .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build(),
                        request -> Tools.text("paid " + runs.incrementAndGet()))
                .tool(Tools.tool("slow_report"), request -> {
                    slowEntered.countDown();
                    try {
                        Thread.sleep(5_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return Tools.text("late");
                }));
        return server.session(AGENT);
    }

    McpSyncClient serve(Policy.Builder policy) {
        return serve(policy, b -> { });
    }

    static String reason(McpSchema.CallToolResult result) {
        return Boolean.TRUE.equals(result.isError()) ? String.valueOf(result.meta().get(ResultMeta.REASON)) : "ok";
    }

    static McpSchema.CallToolResult read(McpSyncClient client) {
        return client.callTool(new CallToolRequest("read_report", Map.of("id", "r-1")));
    }

    static Policy.Builder all() {
        return Policy.builder().scope("all", ToolMatcher.all());
    }

    @Test
    void aGrantWhoseMatcherThrowsGrantsNothing() {
        McpSyncClient client = serve(Policy.builder().scope("all", BROKEN));

        assertThat(client.listTools().tools()).isEmpty();
        assertThat(catchThrowableOfType(McpError.class, () -> read(client))).isNotNull();
        assertThat(runs).hasValue(0);
    }

    @Test
    void aQuotaWhoseMatcherThrowsApplies() {
        McpSyncClient client = serve(all().quota(QuotaRule.perAgent(1, Duration.ofHours(1)).forTools(BROKEN)));

        assertThat(reason(read(client))).isEqualTo("ok");
        assertThat(reason(read(client))).isEqualTo("quota_exceeded");
    }

    @Test
    void aConcurrencyLimitWhoseMatcherThrowsApplies() throws Exception {
        McpSyncClient client = serve(all().concurrency(ConcurrencyRule.perAgent(1).forTools(BROKEN))
                .timeout(Duration.ofSeconds(10), ToolMatcher.names("none")));
        var slow = java.util.concurrent.CompletableFuture.supplyAsync(() -> client.callTool(
                new CallToolRequest("slow_report", Map.of("id", "x"))));
        assertThat(slowEntered.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the slow call holds its slot")
                .isTrue();

        assertThat(reason(read(client))).isEqualTo("concurrency_limited");
        slow.cancel(true);
    }

    @Test
    void aTimeoutWhoseMatcherThrowsApplies() {
        McpSyncClient client = serve(all().timeout(Duration.ofMillis(100), BROKEN));

        assertThat(reason(client.callTool(new CallToolRequest("slow_report", Map.of("id", "x")))))
                .isEqualTo("timeout");
    }

    @Test
    void aBreakerWhoseMatcherThrowsApplies() {
        serve(all().circuitBreaker(BreakerRule.forTools(BROKEN)));

        assertThat(server.guard().circuitBreaker("read_report")).isPresent();
    }

    @Test
    void anApprovalRuleWhoseMatcherThrowsNeedsApprovalForEveryCall() {
        McpSyncClient client = serve(all().approval(ApprovalRule.never(BROKEN)));

        assertThat(reason(read(client))).isEqualTo("approval_denied");
        assertThat(runs).hasValue(0);
    }

    @Test
    void aReversibilityOverrideWhoseMatcherThrowsMakesTheToolIrreversible() {
        McpSyncClient client = serve(all().reversibility(BROKEN, Reversibility.READ_ONLY));

        assertThat(reason(read(client))).as("irreversible tools need approval; the default handler denies")
                .isEqualTo("approval_denied");
        assertThat(runs).hasValue(0);
    }

    @Test
    void anArgumentConditionThatThrowsNeedsApproval() {
        McpSyncClient client = serve(all().approval(ApprovalRule.forTools(ToolMatcher.all()).when(
                ArgumentCondition.of("a condition that throws", args -> {
                    throw new IllegalStateException("condition bug");
                }))));

        assertThat(reason(read(client))).isEqualTo("approval_denied");
        assertThat(runs).hasValue(0);
    }

    @Test
    void aBudgetWhoseMatcherThrowsApplies() {
        McpSyncClient client = serve(all().budget(io.mcpguard.quota.BudgetRule.named("cap").sumOf("amount")
                .forTools(BROKEN).perAgent().atMost(10).per(Duration.ofHours(1)).thenRefuse()));

        assertThat(reason(client.callTool(new CallToolRequest("pay", Map.of("amount", 6)))))
                .isEqualTo("ok");
        assertThat(reason(client.callTool(new CallToolRequest("pay", Map.of("amount", 6)))))
                .isEqualTo("budget_exceeded");
        assertThat(runs).hasValue(1);
    }

    @Test
    void aBoundaryWhoseMatcherThrowsApplies() {
        McpSyncClient client = serve(all().boundary(io.mcpguard.policy.ArgumentBoundary.named("cap")
                .forTools(BROKEN).require(ArgumentCondition.numberAtMost("amount", 10))));

        assertThat(reason(client.callTool(new CallToolRequest("pay", Map.of("amount", 11)))))
                .isEqualTo("argument_boundary");
        assertThat(runs).hasValue(0);
    }

    @Test
    void aResolverThatThrowsLeavesTheCallerUnknown() {
        McpSyncClient client = serve(all(), b -> b.agentResolver(context -> {
            throw new IllegalStateException("resolver bug");
        }));

        assertThat(client.listTools().tools()).isEmpty();
        assertThat(catchThrowableOfType(McpError.class, () -> read(client))).isNotNull();
        assertThat(runs).hasValue(0);
    }

    @Test
    void aSchemaValidatorThatThrowsRefusesTheCall() {
        JsonSchemaValidator broken = (schema, arguments) -> {
            throw new IllegalStateException("validator bug");
        };
        McpSyncClient client = serve(all(), b -> b.jsonSchemaValidator(broken));

        assertThat(reason(read(client))).isEqualTo("invalid_arguments");
        assertThat(runs).hasValue(0);
    }

    @Test
    void anEventListenerThatThrowsChangesNoOutcome() {
        McpSyncClient client = serve(all().quota(QuotaRule.perAgent(1, Duration.ofHours(1))), b -> b.eventListener(
                event -> {
                    throw new IllegalStateException("listener bug");
                }));

        assertThat(reason(read(client))).isEqualTo("ok");
        assertThat(reason(read(client))).as("the refusal stands although its event's listener threw")
                .isEqualTo("quota_exceeded");
    }

    @Test
    void anAuthenticatorOrHeaderValidatorThatThrowsRefusesTheRequest() throws Exception {
        HttpAuthenticator broken = request -> {
            throw new IllegalStateException("authenticator bug");
        };
        try (GatedHttp http = GatedHttp.streamable(McpGuard.builder().policy(all().build()).build(), broken,
                Served.of().echo("read_report"))) {
            var response = http.raw("anything-at-all-000000").initialize();
            assertThat(response.statusCode()).isEqualTo(401);
            assertThat(response.body()).doesNotContain("authenticator bug");
        }
        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder().key("k", "key-0123456789abcdef", AGENT).build();
        try (GatedHttp http = GatedHttp.streamable(McpGuard.builder().policy(all().build()).build(), keys,
                Served.of().echo("read_report"), b -> b.headerValidator(headers -> {
                    throw new IllegalStateException("validator bug");
                }))) {
            var response = http.raw("key-0123456789abcdef").initialize();
            assertThat(response.statusCode()).isEqualTo(403);
            assertThat(response.body()).doesNotContain("validator bug");
        }
    }
}
