package io.mcpguard.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.policy.ResourceMatcher;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A static resource whose URI a template also serves cannot be hidden from a caller who sees the template: the
 * caller would read "not found" for it and content for every other URI, which tells it the resource exists. The
 * guard refuses such a catalog when it is registered, in either order.
 */
class ResourceShadowTest {

    static McpServerFeatures.SyncResourceTemplateSpecification files() {
        return new McpServerFeatures.SyncResourceTemplateSpecification(
                McpSchema.ResourceTemplate.builder().uriTemplate("files://{name}").name("files").build(),
                (exchange, request) -> new McpSchema.ReadResourceResult(List.of()));
    }

    static McpServerFeatures.SyncResourceSpecification payroll() {
        return new McpServerFeatures.SyncResourceSpecification(
                McpSchema.Resource.builder().uri("files://payroll").name("payroll").build(),
                (exchange, request) -> new McpSchema.ReadResourceResult(List.of()));
    }

    static McpGuard guard(Policy policy) {
        return McpGuard.builder().policy(policy).stateSweepInterval(null).audit(null).build();
    }

    @Test
    void aResourceGrantedMoreNarrowlyThanATemplateServingItsUriIsRefusedInEitherOrder() {
        Policy narrow = Policy.builder().scope("files", ResourceMatcher.templates("files://{name}"))
                .scope("payroll", ResourceMatcher.uris("files://payroll")).build();

        try (McpGuard guard = guard(narrow)) {
            guard.wrap(files());
            assertThatThrownBy(() -> guard.wrap(payroll())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("resource 'files://payroll' is also served by template 'files://{name}'");
        }
        try (McpGuard guard = guard(narrow)) {
            guard.wrap(payroll());
            assertThatThrownBy(() -> guard.wrap(files())).isInstanceOf(IllegalStateException.class);
            assertThat(guard.pipeline().catalog().template("files://{name}")).as("nothing half-registered").isNull();
        }
    }

    @Test
    void aResourceGrantedWhereverItsTemplateIsMayBeServed() {
        Policy same = Policy.builder()
                .scope("files", ResourceMatcher.templates("files://{name}"), ResourceMatcher.uris("files://payroll"))
                .scope("payroll", ResourceMatcher.uris("files://payroll")).build();
        try (McpGuard guard = guard(same)) {
            assertThatCode(() -> {
                guard.wrap(files());
                guard.wrap(payroll());
            }).doesNotThrowAnyException();
        }
    }
}
