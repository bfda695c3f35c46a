package io.mcpguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.examples.orders.OrderStore;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The real OTLP/HTTP exporter sends the guard's spans to a receiver on loopback that decodes the protobuf, as Jaeger
 * would receive them (Jaeger itself cannot run on the build machines).
 */
class OtlpExportTest {

    @Test
    void guardSpansArriveOverOtlpWithTheirNamesAttributesAndTheAgentsTrace() throws Exception {
        List<ExportTraceServiceRequest> received = new CopyOnWriteArrayList<>();
        List<String> contentTypes = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/v1/traces", exchange -> {
            contentTypes.add(exchange.getRequestHeaders().getFirst("Content-Type"));
            received.add(ExportTraceServiceRequest.parseFrom(exchange.getRequestBody().readAllBytes()));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        try {
            var exporter = OtlpHttpSpanExporter.builder()
                    .setEndpoint("http://127.0.0.1:" + receiver.getAddress().getPort() + "/v1/traces").build();
            var tracing = SdkTracerProvider.builder()
                    .setResource(Resource.getDefault().merge(Resource.builder().put("service.name", "orders").build()))
                    .addSpanProcessor(BatchSpanProcessor.builder(exporter).build()).build();
            try (OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(tracing).build();
                    OrderServer server = OrderServer.startHttp(0, OrderStore.seeded(), ApprovalHandler.denyAll(), sdk)) {
                var transport = HttpClientStreamableHttpTransport.builder("http://localhost:"
                                + java.net.URI.create(server.url()).getPort())
                        .endpoint("/mcp")
                        .requestBuilder(HttpRequest.newBuilder().header("Authorization",
                                "Bearer " + OrderServer.DEMO_KEYS.get("support-bot")))
                        .build();
                try (var client = McpClient.sync(transport).build()) {
                    client.initialize();
                    Map<String, Object> meta = Map.of("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01");
                    client.callTool(new CallToolRequest("get_order", Map.of("orderId", "o-1001"), meta));
                    try {
                        client.callTool(new CallToolRequest("issue_refund", Map.of("orderId", "o-1", "amount", 1),
                                meta));
                    } catch (io.modelcontextprotocol.spec.McpError expected) {
                        // hidden from support-bot
                    }
                }
                assertThat(tracing.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
            }
        } finally {
            receiver.stop(0);
        }

        assertThat(contentTypes).allMatch(type -> type.startsWith("application/x-protobuf"));
        List<Span> spans = new ArrayList<>();
        received.forEach(request -> request.getResourceSpansList().forEach(rs -> {
            assertThat(attributes(rs.getResource().getAttributesList())).containsEntry("service.name", "orders");
            rs.getScopeSpansList().forEach(ss -> {
                assertThat(ss.getScope().getName()).isEqualTo("io.mcpguard");
                spans.addAll(ss.getSpansList());
            });
        }));
        Span allowed = spans.stream().filter(s -> s.getName().equals("tools/call get_order")).findFirst().orElseThrow();
        assertThat(allowed.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
        assertThat(HexFormat.of().formatHex(allowed.getTraceId().toByteArray())).isEqualTo(traceId);
        assertThat(HexFormat.of().formatHex(allowed.getParentSpanId().toByteArray())).isEqualTo("00f067aa0ba902b7");
        assertThat(attributes(allowed.getAttributesList()))
                .containsEntry("mcp.method.name", "tools/call")
                .containsEntry("gen_ai.tool.name", "get_order")
                .containsEntry("gen_ai.agent.id", "support-bot")
                .containsEntry("mcp_guard.credential.id", "key-support-bot")
                .containsEntry("mcp_guard.decision", "allow")
                .containsEntry("mcp_guard.policy.fingerprint", OrderServer.POLICY.fingerprint())
                .containsEntry("network.transport", "tcp")
                .containsEntry("network.protocol.name", "http")
                .containsEntry("client.address", "127.0.0.1")
                .containsKey("mcp.session.id");
        Span hidden = spans.stream().filter(s -> s.getName().equals("tools/call issue_refund")).findFirst()
                .orElseThrow();
        assertThat(attributes(hidden.getAttributesList()))
                .containsEntry("mcp_guard.decision", "deny")
                .containsEntry("mcp_guard.reason", "out_of_scope")
                .containsEntry("error.type", "-32602");
        assertThat(spans).extracting(Span::getName).contains("tools/call get_order", "tools/call issue_refund");
    }

    static Map<String, String> attributes(List<KeyValue> values) {
        return values.stream().collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().hasStringValue()
                ? kv.getValue().getStringValue() : String.valueOf(kv.getValue().getIntValue()), (a, b) -> b));
    }
}
