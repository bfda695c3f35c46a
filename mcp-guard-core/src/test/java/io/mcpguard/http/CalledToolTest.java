package io.mcpguard.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Finding the tool a request body calls, without building the call: what decides whether a probe is recorded. */
class CalledToolTest {

    static String tool(String body) {
        return ErrorSanitizingServlet.calledTool(body.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }

    @Test
    void theNameOfAToolsCallWhateverTheFieldOrder() {
        assertThat(tool("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"get_order\","
                + "\"arguments\":{\"id\":\"o-1\"}}}")).isEqualTo("get_order");
        assertThat(tool("{\"params\":{\"arguments\":{\"name\":\"decoy\",\"deep\":[{\"name\":\"x\"}]},"
                + "\"_meta\":{\"name\":\"meta\"},\"name\":\"drop_database\"},\"id\":\"7\",\"method\":\"tools/call\"}"))
                .as("arguments and _meta are skipped, not searched").isEqualTo("drop_database");
        assertThat(tool("{\"method\":\"tools/call\",\"params\":{\"name\":\"caf\\u00e9\"}}")).isEqualTo("caf\u00e9");
    }

    @Test
    void nothingForOtherMessagesOrShapes() {
        assertThat(tool("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"name\":\"x\"}}")).isNull();
        assertThat(tool("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}")).isNull();
        assertThat(tool("{\"method\":\"tools/call\",\"params\":{\"name\":42}}")).isNull();
        assertThat(tool("{\"method\":\"tools/call\",\"params\":[\"get_order\"]}")).isNull();
        assertThat(tool("{\"method\":\"tools/call\"}")).isNull();
        assertThat(tool("{\"method\":{\"x\":\"tools/call\"},\"params\":{\"name\":\"a\"}}")).isNull();
        assertThat(tool("[{\"method\":\"tools/call\",\"params\":{\"name\":\"a\"}}]")).as("batch").isNull();
    }

    @Test
    void nothingForMalformedBodies() {
        assertThat(tool("{\"method\":\"tools/call\",\"params\":{\"name\":\"a\"")).isNull();
        assertThat(tool("not json")).isNull();
        assertThat(tool("")).isNull();
        assertThat(ErrorSanitizingServlet.calledTool(new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1',
                '}'}, StandardCharsets.UTF_8)).isNull();
    }
}
