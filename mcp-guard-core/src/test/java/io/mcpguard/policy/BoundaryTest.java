package io.mcpguard.policy;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Hard argument boundaries: caps, allowed values, patterns, path prefixes and the caller's own tenant deny. */
class BoundaryTest {

    static final AgentIdentity ACME = AgentIdentity.builder("acme-bot").scopes("files").attribute("tenant", "acme")
            .build();
    static final AgentIdentity NO_TENANT = AgentIdentity.builder("stray-bot").scopes("files").build();

    final AtomicInteger ran = new AtomicInteger();
    final List<GuardedInMemory> servers = new ArrayList<>();

    @AfterEach
    void close() {
        servers.forEach(GuardedInMemory::close);
    }

    McpServerFeatures.SyncToolSpecification tool(String name) {
        var tool = McpSchema.Tool.builder().name(name).inputSchema(Map.of("type", "object"))
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build();
        return new McpServerFeatures.SyncToolSpecification(tool, (exchange, request) -> {
            ran.incrementAndGet();
            return Tools.text("done");
        });
    }

    GuardedInMemory serve(ArgumentBoundary... boundaries) {
        Policy.Builder policy = Policy.builder().scope("files", ToolMatcher.all());
        for (ArgumentBoundary boundary : boundaries) {
            policy.boundary(boundary);
        }
        GuardedInMemory server = new GuardedInMemory(McpGuard.builder().policy(policy.build()).build(),
                List.of(tool("read_file"), tool("issue_refund"), tool("list_invoices")));
        servers.add(server);
        return server;
    }

    static CallToolResult call(McpSyncClient client, String tool, Object... keyValues) {
        Map<String, Object> args = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            args.put((String) keyValues[i], keyValues[i + 1]);
        }
        return client.callTool(new CallToolRequest(tool, args));
    }

    @Test
    void aCapRefusesAboveItAndAMissingOrMistypedValue() {
        McpSyncClient client = serve(ArgumentBoundary.named("refund-cap").forTools(ToolMatcher.names("issue_refund"))
                .require(ArgumentCondition.numberAtMost("amount", 1000))).session(ACME);

        assertThat(reason(call(client, "issue_refund", "amount", 1000))).isEqualTo("ok");
        assertThat(reason(call(client, "issue_refund", "amount", 999.99))).isEqualTo("ok");
        CallToolResult over = call(client, "issue_refund", "amount", 1000.01);
        assertThat(reason(over)).isEqualTo("argument_boundary");
        assertThat(over.meta()).containsEntry("io.mcpguard/rule", "refund-cap");
        assertThat(Tools.firstText(over)).isEqualTo("Call to 'issue_refund' refused: argument 'amount' is outside "
                + "boundary 'refund-cap' (or missing or mistyped).").doesNotContain("1000");
        assertThat(reason(call(client, "issue_refund", "amount", "5"))).isEqualTo("argument_boundary");
        assertThat(reason(call(client, "issue_refund"))).isEqualTo("argument_boundary");
        assertThat(reason(call(client, "issue_refund", "amount", List.of(1)))).isEqualTo("argument_boundary");
        assertThat(reason(call(client, "read_file", "amount", 5000))).as("other tools").isEqualTo("ok");
        assertThat(ran).hasValue(3);
    }

    @Test
    void allowedValuesAndPatterns() {
        McpSyncClient client = serve(
                ArgumentBoundary.named("currencies").forTools(ToolMatcher.names("issue_refund"))
                        .require(ArgumentCondition.stringIn("currency", "EUR", "USD")),
                ArgumentBoundary.named("order-ids").forTools(ToolMatcher.names("issue_refund"))
                        .require(ArgumentCondition.matches("orderId", "o-[0-9]{1,8}"))).session(ACME);

        assertThat(reason(call(client, "issue_refund", "currency", "EUR", "orderId", "o-17"))).isEqualTo("ok");
        assertThat(reason(call(client, "issue_refund", "currency", "BTC", "orderId", "o-17")))
                .isEqualTo("argument_boundary");
        assertThat(reason(call(client, "issue_refund", "currency", "eur", "orderId", "o-17")))
                .isEqualTo("argument_boundary");
        CallToolResult injected = call(client, "issue_refund", "currency", "EUR", "orderId", "o-17' OR '1'='1");
        assertThat(injected.meta()).containsEntry("io.mcpguard/rule", "order-ids");
        assertThat(reason(call(client, "issue_refund", "currency", "EUR", "orderId", "o-17\n"))).as("whole match")
                .isEqualTo("argument_boundary");
    }

    @Test
    void pathsAreNormalisedBeforeTheyAreCompared() {
        McpSyncClient client = serve(ArgumentBoundary.named("reports-only").forTools(ToolMatcher.names("read_file"))
                .require(ArgumentCondition.pathUnder("path", "/srv/reports"))).session(ACME);

        for (String allowed : List.of("/srv/reports", "/srv/reports/q3.csv", "/srv/reports/2026/../q3.csv",
                "/srv//reports/./q3.csv", "/srv/reports/%71%33.csv")) {
            assertThat(reason(call(client, "read_file", "path", allowed))).as(allowed).isEqualTo("ok");
        }
        for (String escape : List.of("/srv/reports/../secrets.txt", "/srv/reports/%2e%2e/secrets.txt",
                "/srv/reports/%252e%252e/secrets.txt", "/srv/reports/..%2fsecrets.txt", "\\srv\\reports\\..\\x",
                "/srv/reports-old/q3.csv", "srv/reports/q3.csv", "/srv/reports/q3.csv\u0000.txt", "/etc/passwd",
                "/../srv/reports/q3.csv", "/srv/reports/%2", "/srv/reports/%ff.csv", "file:///srv/reports/q3.csv")) {
            assertThat(reason(call(client, "read_file", "path", escape))).as(escape).isEqualTo("argument_boundary");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/a/b/../c|/a/c",
        "/a/./b//c/|/a/b/c",
        "/a/%2E%2E/b|/b",
        "/a/%25252e%25252e/b|/b",
        "/a/%2525252525252e/b|",
        "/|/",
        "/..|",
        "a/b|",
        "/a\\b|/a/b",
        "/caf%C3%A9|/café"
    })
    void normalisation(String raw, String expected) {
        assertThat(ArgumentCondition.normalisePath(raw)).isEqualTo(expected);
    }

    @Test
    void anAgentActsOnlyWithinItsOwnTenant() {
        GuardedInMemory server = serve(ArgumentBoundary.named("own-tenant").forTools(ToolMatcher.all())
                .require(ArgumentCondition.equalsAttribute("tenantId", "tenant")));
        McpSyncClient acme = server.session(ACME);
        McpSyncClient stray = server.session(NO_TENANT);

        assertThat(reason(call(acme, "list_invoices", "tenantId", "acme"))).isEqualTo("ok");
        CallToolResult other = call(acme, "list_invoices", "tenantId", "globex");
        assertThat(reason(other)).isEqualTo("argument_boundary");
        assertThat(Tools.firstText(other)).doesNotContain("acme");
        assertThat(reason(call(acme, "list_invoices"))).as("missing").isEqualTo("argument_boundary");
        assertThat(reason(call(stray, "list_invoices", "tenantId", "acme"))).as("an identity without a tenant")
                .isEqualTo("argument_boundary");
    }

    @Test
    void aBoundaryWhoseMatcherThrowsAppliesAndACustomConditionThatThrowsRefuses() {
        ToolMatcher broken = ToolMatcher.where("broken", tool -> {
            throw new IllegalStateException("matcher bug");
        });
        McpSyncClient client = serve(
                ArgumentBoundary.named("cap").forTools(broken).require(ArgumentCondition.numberAtMost("amount", 10)),
                ArgumentBoundary.named("custom").forTools(ToolMatcher.names("list_invoices"))
                        .require(ArgumentCondition.of("never throws?", args -> {
                            throw new IllegalStateException("condition bug");
                        }))).session(ACME);

        assertThat(reason(call(client, "read_file", "amount", 11))).isEqualTo("argument_boundary");
        assertThat(reason(call(client, "read_file", "amount", 10))).isEqualTo("ok");
        assertThat(reason(call(client, "list_invoices", "amount", 1))).isEqualTo("argument_boundary");
    }

    @Test
    void boundariesAreCheckedWhenBuiltAndEnterTheFingerprint() {
        assertThatThrownBy(() -> ArgumentBoundary.named("bad name")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ArgumentBoundary.named("x").require(ArgumentCondition.flagSet("y")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("forTools");
        assertThatThrownBy(() -> ArgumentCondition.pathUnder("path", "relative/dir"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ArgumentCondition.matches("id", "(")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid pattern");
        ArgumentBoundary cap = ArgumentBoundary.named("cap").forTools(ToolMatcher.names("t"))
                .require(ArgumentCondition.numberAtMost("amount", 10));
        assertThatThrownBy(() -> Policy.builder().boundary(cap).boundary(cap)).hasMessageContaining("twice");
        Policy with = Policy.builder().scope("s", ToolMatcher.all()).boundary(cap).build();
        Policy without = Policy.builder().scope("s", ToolMatcher.all()).build();
        assertThat(with.fingerprint()).isNotEqualTo(without.fingerprint());
        assertThat(with.canonicalForm()).contains("boundary cap tools=names(t) require amount <= 10");
    }
}
