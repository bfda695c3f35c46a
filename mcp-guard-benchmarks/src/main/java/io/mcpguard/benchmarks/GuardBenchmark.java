package io.mcpguard.benchmarks;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The guard's own cost per {@code tools/call}, without a transport: the wrapped handler against the bare handler of
 * the same trivial tool, on the allow path (with telemetry off and on) and the deny path.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class GuardBenchmark {

    /** {@code off}: OpenTelemetry.noop(); {@code on}: the SDK with a batch processor and an exporter that drops. */
    @Param({"off", "on"})
    public String tracing;

    /** {@code off}: no audit trail; {@code on}: the audit trail with a sink that drops records. */
    @Param({"off", "on"})
    public String audit;

    McpStatelessServerFeatures.SyncToolSpecification bare;
    McpStatelessServerFeatures.SyncToolSpecification guarded;
    McpStatelessServerFeatures.SyncToolSpecification hidden;
    McpTransportContext context;
    McpSchema.CallToolRequest request;
    McpSchema.CallToolRequest hiddenRequest;
    OpenTelemetrySdk sdk;
    McpGuard guard;

    static final McpSchema.CallToolResult RESULT = McpSchema.CallToolResult.builder().addTextContent("ok")
            .isError(false).build();

    static McpSchema.Tool tool(String name) {
        return McpSchema.Tool.builder().name(name)
                .inputSchema(Map.of("type", "object", "properties", Map.of("id", Map.of("type", "string")),
                        "required", List.of("id")))
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build();
    }

    /** Drops spans, as a stand-in for a real exporter without its I/O. */
    static final class DroppingExporter implements SpanExporter {
        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        OpenTelemetry otel = OpenTelemetry.noop();
        if (tracing.equals("on")) {
            sdk = OpenTelemetrySdk.builder()
                    .setTracerProvider(SdkTracerProvider.builder()
                            .addSpanProcessor(BatchSpanProcessor.builder(new DroppingExporter()).build()).build())
                    .setMeterProvider(SdkMeterProvider.builder().build())
                    .build();
            otel = sdk;
        }
        guard = McpGuard.builder()
                .policy(Policy.builder().scope("orders", ToolMatcher.names("get_order")).build())
                .openTelemetry(otel)
                .audit(audit.equals("on") ? record -> { } : null)
                .build();
        bare = new McpStatelessServerFeatures.SyncToolSpecification(tool("get_order"), (ctx, req) -> RESULT);
        guarded = guard.wrap(bare);
        hidden = guard.wrap(new McpStatelessServerFeatures.SyncToolSpecification(tool("delete_customer"),
                (ctx, req) -> RESULT));
        context = McpTransportContext.create(Map.of(AgentIdentity.CONTEXT_KEY,
                AgentIdentity.builder("support-bot").scopes("orders").credentialId("key-1").build()));
        request = new McpSchema.CallToolRequest("get_order", Map.of("id", "o-1"));
        hiddenRequest = new McpSchema.CallToolRequest("delete_customer", Map.of("id", "c-1"));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        guard.close();
        if (sdk != null) {
            sdk.close();
        }
    }

    /** The tool alone: what an unguarded server runs. */
    @Benchmark
    public McpSchema.CallToolResult bareCall() {
        return bare.callHandler().apply(context, request);
    }

    /** The same tool behind the guard, allowed. */
    @Benchmark
    public McpSchema.CallToolResult guardedAllowedCall() {
        return guarded.callHandler().apply(context, request);
    }

    /** A call to a tool outside the caller's scope: the unknown-tool error. */
    @Benchmark
    public Object guardedHiddenCall() {
        try {
            return hidden.callHandler().apply(context, hiddenRequest);
        } catch (McpError expected) {
            return expected;
        }
    }
}
