package io.mcpguard.testing;

import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;

/** Small real tools for tests. */
public final class Tools {

    private Tools() {
    }

    /** An input schema requiring a string {@code id}. */
    public static final Map<String, Object> ID_SCHEMA = Map.of(
            "type", "object",
            "properties", Map.of("id", Map.of("type", "string")),
            "required", List.of("id"),
            "additionalProperties", false);

    /**
     * Returns a read-only tool definition with the id schema (no approval needed).
     *
     * @param name the name
     * @return the tool
     */
    public static McpSchema.Tool tool(String name) {
        return McpSchema.Tool.builder().name(name).description("Test tool " + name).inputSchema(ID_SCHEMA)
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build();
    }

    /**
     * Returns a tool definition with the id schema and no annotations at all (irreversible by the spec's defaults).
     *
     * @param name the name
     * @return the tool
     */
    public static McpSchema.Tool bareTool(String name) {
        return McpSchema.Tool.builder().name(name).description("Test tool " + name).inputSchema(ID_SCHEMA).build();
    }

    /**
     * Returns a synchronous tool that echoes {@code <name>:<id>}.
     *
     * @param name the tool's name
     * @return the spec
     */
    public static McpServerFeatures.SyncToolSpecification echo(String name) {
        return new McpServerFeatures.SyncToolSpecification(tool(name), (exchange, request) -> text(
                name + ":" + request.arguments().get("id")));
    }

    /**
     * Returns a result with one text content.
     *
     * @param text the text
     * @return the result
     */
    public static McpSchema.CallToolResult text(String text) {
        return McpSchema.CallToolResult.builder().content(List.of(new McpSchema.TextContent(text))).build();
    }

    /**
     * Returns the first text content of a result.
     *
     * @param result the result
     * @return its text
     */
    public static String firstText(McpSchema.CallToolResult result) {
        return ((McpSchema.TextContent) result.content().get(0)).text();
    }
}
