package io.mcpguard.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/** The Spring Boot example runs as documented: same domain, same policy, over real HTTP with JWTs. */
@SpringBootTest(classes = SpringOrderServer.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SpringOrderServerTest {

    @LocalServerPort
    int port;

    @Autowired
    SpringOrderServer app;

    McpSyncClient client(String agent, String scopes) {
        var transport = HttpClientStreamableHttpTransport.builder("http://localhost:" + port).endpoint("/mcp")
                .requestBuilder(HttpRequest.newBuilder().header("Authorization",
                        "Bearer " + app.token(agent, scopes, Duration.ofMinutes(5))))
                .build();
        McpSyncClient client = McpClient.sync(transport).build();
        client.initialize();
        return client;
    }

    @Test
    void theSpringExampleGuardsTheOrderToolsLikeThePlainOne() {
        try (McpSyncClient support = client("support-bot", "orders:read orders:write");
                McpSyncClient billing = client("billing-agent", "orders:read refunds")) {
            assertThat(support.listTools().tools()).extracting(McpSchema.Tool::name)
                    .containsExactlyInAnyOrder("get_order", "list_orders", "update_order_note");
            assertThat(catchThrowableOfType(McpError.class, () -> support.callTool(new CallToolRequest(
                    "issue_refund", Map.of("orderId", "o-1002", "amount", 5)))).getJsonRpcError().message())
                    .isEqualTo("Unknown tool: invalid_tool_name");

            var small = billing.callTool(new CallToolRequest("issue_refund", Map.of("orderId", "o-1002", "amount", 5)));
            assertThat(small.isError()).isFalse();
            var large = billing.callTool(new CallToolRequest("issue_refund",
                    Map.of("orderId", "o-1002", "amount", 500)));
            assertThat(large.isError()).isTrue();
            assertThat(large.meta()).containsEntry("io.mcpguard/reason", "approval_denied");
        }
    }
}
