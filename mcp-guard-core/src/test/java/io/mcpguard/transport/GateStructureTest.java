package io.mcpguard.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.MutableClock;
import io.mcpguard.testing.RawMcpHttp;
import io.mcpguard.testing.Served;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How the gate is built, tested as structure: hidden and missing names share one responder and the bookkeeping of
 * either happens after the answer is on its way; sessions are capped per agent and expire when idle.
 */
class GateStructureTest {

    static final String KEY = "sk-agent-0123456789abcdef";
    static final ApiKeyAuthenticator KEYS = ApiKeyAuthenticator.builder()
            .key("k", KEY, AgentIdentity.builder("agent").scopes("orders").build()).build();
    static final Policy POLICY = Policy.builder().scope("orders", ToolMatcher.names("get_order")).build();

    static String call(String tool) {
        return "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
                + "\",\"arguments\":{\"id\":\"1\"}}}";
    }

    @Test
    void theAnswerToAHiddenOrMissingNameLeavesBeforeItsSpanIsEvenStarted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(2);
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        SpanProcessor blocking = new SpanProcessor() {
            @Override
            public void onStart(Context parent, ReadWriteSpan span) {
                blocked.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public boolean isStartRequired() {
                return true;
            }

            @Override
            public void onEnd(ReadableSpan span) {
            }

            @Override
            public boolean isEndRequired() {
                return false;
            }
        };
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(blocking).addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
        try (GatedHttp server = GatedHttp.streamable(McpGuard.builder().policy(POLICY).openTelemetry(otel).build(),
                KEYS, Served.of().echo("get_order", "delete_customer"))) {
            RawMcpHttp agent = server.raw(KEY);
            agent.initialize();

            var hidden = agent.post(call("delete_customer"));
            var missing = agent.post(call("no_such_tool"));

            assertThat(RawMcpHttp.message(hidden)).contains("Tool not found: delete_customer");
            assertThat(RawMcpHttp.message(missing)).contains("Tool not found: no_such_tool");
            assertThat(spans.getFinishedSpanItems()).as("answered while the recorder is still blocked").isEmpty();
            release.countDown();
            for (int i = 0; i < 200 && spans.getFinishedSpanItems().size() < 2; i++) {
                Thread.sleep(25); // waiting for the recorder thread, not timing anything
            }
            assertThat(spans.getFinishedSpanItems()).extracting(s -> s.getName())
                    .containsExactlyInAnyOrder("tools/call delete_customer", "tools/call no_such_tool");
        } finally {
            release.countDown();
            otel.close();
        }
    }

    @Test
    void sessionsPerAgentAreCappedAndIdleOnesExpire() throws Exception {
        MutableClock clock = MutableClock.start();
        try (GatedHttp server = GatedHttp.streamable(McpGuard.builder().policy(POLICY).build(), KEYS,
                Served.of().echo("get_order"), b -> b.sessionsPerAgent(3).sessionIdleTimeout(Duration.ofMinutes(5))
                        .gate(gate -> gate.clock(clock)))) {
            RawMcpHttp[] open = new RawMcpHttp[3];
            for (int i = 0; i < 3; i++) {
                open[i] = server.raw(KEY);
                assertThat(open[i].initialize().statusCode()).isEqualTo(200);
            }
            var fourth = server.raw(KEY).initialize();
            assertThat(fourth.statusCode()).isEqualTo(429);
            assertThat(fourth.headers().firstValue("Retry-After")).isPresent();
            assertThat(server.gate().openSessions()).isEqualTo(3);

            clock.advance(Duration.ofMinutes(4));
            open[0].post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
            clock.advance(Duration.ofMinutes(2));
            assertThat(server.gate().sweepSessions()).as("the two idle ones").isEqualTo(2);

            assertThat(open[1].post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}").statusCode())
                    .isEqualTo(404);
            assertThat(open[0].post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}").statusCode())
                    .isEqualTo(200);
            assertThat(server.raw(KEY).initialize().statusCode()).as("room again").isEqualTo(200);
        }
    }
}
