package io.mcpguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.spec.McpSchema;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PolicyTest {

    static final AgentIdentity READER = AgentIdentity.builder("reader").scopes("orders:read").build();

    @Test
    void deniesByDefault() {
        Policy policy = Policy.builder().scope("orders:read", ToolMatcher.names("get_order")).build();

        assertThat(policy.permits(READER, Tools.tool("get_order"))).isTrue();
        assertThat(policy.permits(READER, Tools.tool("delete_customer"))).isFalse();
        assertThat(policy.permits(AgentIdentity.builder("nobody").build(), Tools.tool("get_order"))).isFalse();
        assertThat(Policy.denyAll().permits(READER, Tools.tool("get_order"))).isFalse();
    }

    @Test
    void exactNamesAreCaseSensitiveAsTheSdkDispatches() {
        Policy policy = Policy.builder().scope("orders:read", ToolMatcher.names("get_order")).build();

        assertThat(policy.permits(READER, Tools.tool("Get_Order"))).isFalse();
        assertThat(policy.permits(READER, Tools.tool("get_order."))).isFalse();
    }

    @Test
    void globsMatchWholeNames() {
        Policy policy = Policy.builder().scope("orders:read", ToolMatcher.glob("orders_*"),
                ToolMatcher.glob("get_?")).build();

        assertThat(policy.permits(READER, Tools.tool("orders_list"))).isTrue();
        assertThat(policy.permits(READER, Tools.tool("orders_"))).isTrue();
        assertThat(policy.permits(READER, Tools.tool("my_orders_list"))).isFalse();
        assertThat(policy.permits(READER, Tools.tool("get_x"))).isTrue();
        assertThat(policy.permits(READER, Tools.tool("get_xy"))).isFalse();
        assertThat(ToolMatcher.glob("a*b*c").matches(Tools.tool("aXbYbZc"))).isTrue();
        assertThat(ToolMatcher.glob("a*b*c").matches(Tools.tool("aXbYbZ"))).isFalse();
    }

    @Test
    void predicatesSeeTheToolDefinition() {
        Policy policy = Policy.builder().scope("orders:read", ToolMatcher.readOnly()).build();
        var readOnly = McpSchema.Tool.builder().name("get_order").inputSchema(Tools.ID_SCHEMA)
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build();
        var writes = McpSchema.Tool.builder().name("set_order").inputSchema(Tools.ID_SCHEMA)
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(false).build()).build();

        assertThat(policy.permits(READER, readOnly)).isTrue();
        assertThat(policy.permits(READER, writes)).isFalse();
        assertThat(policy.permits(READER, Tools.bareTool("no_annotations"))).isFalse();
    }

    @Test
    void agentGrantsApplyWhateverTheScopes() {
        Policy policy = Policy.builder().agent("ops-admin", ToolMatcher.all()).build();

        assertThat(policy.permits(AgentIdentity.builder("ops-admin").build(), Tools.tool("delete_customer"))).isTrue();
        assertThat(policy.permits(READER, Tools.tool("delete_customer"))).isFalse();
    }

    @Test
    void fingerprintIsStableAcrossRunsAndIndependentOfDeclarationOrder() {
        Policy a = Policy.builder()
                .scope("orders:read", ToolMatcher.names("list_orders", "get_order"))
                .scope("refunds", ToolMatcher.glob("refund_*"), ToolMatcher.readOnly())
                .agent("ops-admin", ToolMatcher.all())
                .build();
        Policy b = Policy.builder()
                .agent("ops-admin", ToolMatcher.all())
                .scope("refunds", ToolMatcher.readOnly(), ToolMatcher.glob("refund_*"))
                .scope("orders:read", ToolMatcher.names("get_order", "list_orders"))
                .build();

        assertThat(a.fingerprint()).isEqualTo(b.fingerprint()).matches("[0-9a-f]{64}");
        // Pinned: the same policy must give the same fingerprint in every run, on every machine.
        assertThat(a.canonicalForm()).isEqualTo("""
                mcp-guard-policy/1
                scope orders:read -> names(get_order,list_orders)
                scope refunds -> glob(refund_*) | where(annotations.readOnlyHint == true)
                agent ops-admin -> glob(*)
                """);
        assertThat(a.fingerprint()).isEqualTo("37bde180ce7051e928a8e37d46b28da1d4c8f83ae6a731eb81d96755134224a8");
    }

    @Test
    void anyChangeOfGrantsChangesTheFingerprint() {
        Policy base = Policy.builder().scope("orders:read", ToolMatcher.names("get_order")).build();
        Policy wider = Policy.builder().scope("orders:read", ToolMatcher.names("get_order", "list_orders")).build();
        Policy renamed = Policy.builder().scope("orders:all", ToolMatcher.names("get_order")).build();

        assertThat(wider.fingerprint()).isNotEqualTo(base.fingerprint());
        assertThat(renamed.fingerprint()).isNotEqualTo(base.fingerprint());
    }

    @Test
    void mistakesAreCaughtAtBuildTimeWithTheBadValueNamed() {
        assertThatThrownBy(() -> ToolMatcher.names("get order"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'get order'");
        assertThatThrownBy(() -> ToolMatcher.names("x".repeat(129)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 to 128");
        assertThatThrownBy(() -> ToolMatcher.names("get_\u200border"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\\u200B");
        assertThatThrownBy(() -> ToolMatcher.names())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one");
        assertThatThrownBy(() -> ToolMatcher.glob("refund_[0-9]"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'refund_[0-9]'");
        assertThatThrownBy(() -> ToolMatcher.where(" ", tool -> true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("description");
        assertThatThrownBy(() -> Policy.builder().scope("orders:read"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'orders:read' grants nothing");
        assertThatThrownBy(() -> Policy.builder().scope("orders read", ToolMatcher.all()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'orders read'");
        assertThatThrownBy(() -> Policy.builder().agent("", ToolMatcher.all()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid agent id");
        assertThatThrownBy(() -> Policy.builder()
                .scope("a", ToolMatcher.all()).scope("a", ToolMatcher.names("x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("granted twice");
        assertThatThrownBy(() -> Policy.builder().build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("Policy.denyAll()");
    }

    @Test
    void policyHasNoMutatorsAndItsViewsAreUnmodifiable() {
        Policy policy = Policy.builder().scope("orders:read", ToolMatcher.names("get_order")).build();

        assertThat(Modifier.isFinal(Policy.class.getModifiers())).isTrue();
        // Synthetic fields (added by coverage and mutation tools) are not the policy's own.
        assertThat(Arrays.stream(Policy.class.getDeclaredFields()).filter(field -> !field.isSynthetic()))
                .isNotEmpty().allMatch(field -> Modifier.isFinal(field.getModifiers()));
        assertThatThrownBy(() -> policy.scopes().put("x", java.util.List.of(ToolMatcher.all())))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> policy.scopes().get("orders:read").add(ToolMatcher.all()))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
