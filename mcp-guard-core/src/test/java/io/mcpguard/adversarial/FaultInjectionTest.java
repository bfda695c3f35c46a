package io.mcpguard.adversarial;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Parts around the guard failing: telemetry that throws, an exporter that throws. The guard keeps serving and calls
 * keep their outcome. (Resolvers, matchers, approval handlers and audit sinks that fail are covered in their own
 * tests: they fail closed.)
 */
class FaultInjectionTest {

    static final AgentIdentity SUPPORT = AgentIdentity.builder("support-bot").scopes("orders").build();

    static Policy policy() {
        return Policy.builder().scope("orders", ToolMatcher.names("get_order")).build();
    }

    @Test
    void anOpenTelemetryThatThrowsNeverChangesACallsOutcome() {
        OpenTelemetry throwingTracer = new OpenTelemetry() {
            @Override
            public TracerProvider getTracerProvider() {
                return TracerProvider.noop();
            }

            @Override
            public io.opentelemetry.api.trace.Tracer getTracer(String name, String version) {
                return spanName -> {
                    throw new IllegalStateException("span builder exploded");
                };
            }

            @Override
            public ContextPropagators getPropagators() {
                return ContextPropagators.noop();
            }
        };
        for (OpenTelemetry otel : List.of(throwingTracer)) {
            McpGuard guard = McpGuard.builder().policy(policy()).openTelemetry(otel).build();
            try (GuardedInMemory server = new GuardedInMemory(guard, List.of(Tools.echo("get_order")))) {
                var client = server.session(SUPPORT);
                assertThat(reason(client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")))))
                        .isEqualTo("ok");
                assertThat(client.listTools().tools()).hasSize(1);
            }
        }
    }

    @Test
    void anExporterThatThrowsNeverChangesACallsOutcome() {
        SpanExporter exploding = new SpanExporter() {
            @Override
            public CompletableResultCode export(Collection<SpanData> spans) {
                throw new IllegalStateException("collector unreachable");
            }

            @Override
            public CompletableResultCode flush() {
                return CompletableResultCode.ofSuccess();
            }

            @Override
            public CompletableResultCode shutdown() {
                return CompletableResultCode.ofSuccess();
            }
        };
        try (OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exploding)).build()).build()) {
            McpGuard guard = McpGuard.builder().policy(policy()).openTelemetry(sdk).build();
            try (GuardedInMemory server = new GuardedInMemory(guard, List.of(Tools.echo("get_order")))) {
                var client = server.session(SUPPORT);
                for (int i = 0; i < 5; i++) {
                    assertThat(reason(client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")))))
                            .isEqualTo("ok");
                }
            }
        }
    }
}
