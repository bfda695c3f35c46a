package io.mcpguard.examples.conformance;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.examples.EmbeddedHttp;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.HttpAuthenticator;
import io.mcpguard.policy.PromptMatcher;
import io.mcpguard.policy.ResourceMatcher;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.transport.McpGuardHttp;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncCompletionSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncPromptSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncResourceSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncResourceTemplateSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.server.transport.DefaultServerTransportSecurityValidator;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Content;
import io.modelcontextprotocol.spec.McpSchema.Role;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiFunction;
import reactor.core.publisher.Mono;

/**
 * The "everything"-style fixture the MCP conformance suite ({@code @modelcontextprotocol/conformance}) needs, with
 * its exact tools, prompts, resources and capabilities, served through mcp-guard over Streamable HTTP with Host and
 * Origin validation on. Run by {@code .ci/run}: {@code ConformanceServer <port>}.
 *
 * <p><b>The one deliberate exception to the guard's defaults lives here:</b> the suite sends no credentials, so this
 * fixture (and only this fixture) gives every caller one anonymous identity, {@code conformance-suite}, whose scope
 * grants all fixture tools, resources and prompts, and lets its tools run without approval. Everything else (the chain, argument validation,
 * sanitizing, telemetry, audit) is the guard as any server gets it.
 */
public final class ConformanceServer {

    /** A 1x1 red PNG. */
    static final String PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    /** A minimal WAV (44-byte header, no samples). */
    static final String WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

    private ConformanceServer() {
    }

    /**
     * Serves the fixture until the process is stopped.
     *
     * @param args the port (default 3001)
     * @throws Exception if it cannot start
     */
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 3001;
        AgentIdentity suite = AgentIdentity.builder("conformance-suite").scopes("conformance")
                .credentialId("anonymous-fixture").build();
        McpGuard guard = McpGuard.builder()
                .policy(Policy.builder()
                        .scope("conformance", ToolMatcher.all(), ResourceMatcher.all(), PromptMatcher.all())
                        .irreversibleNeedsApproval(false).build())
                .build();
        // The suite sends no credentials: this fixture's authenticator names every caller the suite's identity.
        HttpAuthenticator anonymous = request -> new HttpAuthenticator.Authenticated(suite);
        McpGuardHttp<HttpServletStreamableServerTransportProvider> gated = McpGuardHttp.streamable(guard, anonymous)
                .headerValidator(DefaultServerTransportSecurityValidator.builder()
                        .allowedHosts(List.of("localhost:*", "127.0.0.1:*", "[::1]:*", "localhost", "127.0.0.1",
                                "[::1]"))
                        .allowedOrigins(List.of("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"))
                        .build())
                // Every scenario opens sessions as the one anonymous identity: room for the whole suite.
                .sessionsPerAgent(1024)
                .build();
        McpAsyncServer server = guard.install(McpServer.async(gated.transport())
                        .serverInfo("mcp-guard-conformance-fixture", "0.1.0")
                        .capabilities(McpSchema.ServerCapabilities.builder().tools(true).prompts(true)
                                .resources(true, true).logging().completions().build()))
                .tools(tools())
                .prompts(prompts())
                .resources(resources())
                .resourceTemplates(List.of(template()))
                .completions(List.of(completion()))
                .build();
        EmbeddedHttp http = EmbeddedHttp.start(gated.servlet(), "/mcp", port);
        System.out.println("conformance fixture on http://localhost:" + http.port() + "/mcp");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            guard.close();
        }));
        new CountDownLatch(1).await();
    }

    static McpSchema.Tool tool(String name, String description, Map<String, Object> properties, List<String> required) {
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("type", "object");
        schema.put("properties", properties);
        if (!required.isEmpty()) {
            schema.put("required", required);
        }
        return McpSchema.Tool.builder().name(name).description(description).inputSchema(schema).build();
    }

    static AsyncToolSpecification tool(String name, String description,
            BiFunction<McpAsyncServerExchange, McpSchema.CallToolRequest, Mono<CallToolResult>> handler) {
        return new AsyncToolSpecification(tool(name, description, Map.of(), List.of()), handler);
    }

    static CallToolResult result(Content... content) {
        return CallToolResult.builder().content(List.of(content)).isError(false).build();
    }

    static CallToolResult text(String text) {
        return result(new TextContent(text));
    }

    static List<AsyncToolSpecification> tools() {
        return List.of(
                tool("test_simple_text", "Returns simple text",
                        (ex, req) -> Mono.just(text("This is a simple text response for testing."))),
                tool("test_image_content", "Returns an image",
                        (ex, req) -> Mono.just(result(new McpSchema.ImageContent(null, PNG, "image/png")))),
                tool("test_audio_content", "Returns audio",
                        (ex, req) -> Mono.just(result(new McpSchema.AudioContent(null, WAV, "audio/wav")))),
                tool("test_embedded_resource", "Returns an embedded resource",
                        (ex, req) -> Mono.just(result(new McpSchema.EmbeddedResource(null,
                                new McpSchema.TextResourceContents("test://embedded-resource", "text/plain",
                                        "This is an embedded resource content."))))),
                tool("test_multiple_content_types", "Returns text, image and a resource",
                        (ex, req) -> Mono.just(result(new TextContent("Multiple content types test:"),
                                new McpSchema.ImageContent(null, PNG, "image/png"),
                                new McpSchema.EmbeddedResource(null, new McpSchema.TextResourceContents(
                                        "test://mixed-content-resource", "application/json",
                                        "{\"test\":\"data\",\"value\":123}"))))),
                tool("test_tool_with_logging", "Logs three messages while running",
                        (ex, req) -> log(ex, "Tool execution started")
                                .then(Mono.delay(Duration.ofMillis(50)))
                                .then(log(ex, "Tool processing data"))
                                .then(Mono.delay(Duration.ofMillis(50)))
                                .then(log(ex, "Tool execution completed"))
                                .thenReturn(text("Tool with logging executed successfully"))),
                tool("test_error_handling", "Always reports an error",
                        (ex, req) -> Mono.just(CallToolResult.builder().content(List.of(new TextContent(
                                "This tool intentionally returns an error for testing"))).isError(true).build())),
                tool("test_tool_with_progress", "Reports progress",
                        (ex, req) -> {
                            Object token = req.meta() == null ? null : req.meta().get("progressToken");
                            return progress(ex, token, 0).then(Mono.delay(Duration.ofMillis(50)))
                                    .then(progress(ex, token, 50)).then(Mono.delay(Duration.ofMillis(50)))
                                    .then(progress(ex, token, 100))
                                    .thenReturn(text("Tool with progress executed successfully"));
                        }),
                new AsyncToolSpecification(tool("test_sampling", "Asks the client's LLM",
                        Map.of("prompt", Map.of("type", "string", "description", "The prompt to send to the LLM")),
                        List.of("prompt")),
                        (ex, req) -> ex.createMessage(McpSchema.CreateMessageRequest.builder(List.of(
                                new McpSchema.SamplingMessage(Role.USER, new TextContent(
                                        String.valueOf(req.arguments().get("prompt"))))), 100).build())
                                .map(r -> text("LLM response: " + (r.content() instanceof TextContent t ? t.text()
                                        : String.valueOf(r.content()))))),
                new AsyncToolSpecification(tool("test_elicitation", "Asks the user",
                        Map.of("message", Map.of("type", "string", "description", "The message to show the user")),
                        List.of("message")),
                        (ex, req) -> ex.createElicitation(McpSchema.ElicitRequest.builder(
                                String.valueOf(req.arguments().get("message")), Map.of(
                                        "type", "object",
                                        "properties", Map.of(
                                                "username", Map.of("type", "string", "description", "User's response"),
                                                "email", Map.of("type", "string", "description",
                                                        "User's email address")),
                                        "required", List.of("username", "email"))).build())
                                .map(r -> text("User response: action=" + r.action().name().toLowerCase()
                                        + ", content=" + r.content()))),
                tool("test_elicitation_sep1034_defaults", "Elicitation with defaults",
                        (ex, req) -> ex.createElicitation(McpSchema.ElicitRequest.builder("Please review your "
                                + "profile", Map.of("type", "object", "properties", Map.of(
                                        "name", Map.of("type", "string", "default", "John Doe"),
                                        "age", Map.of("type", "integer", "default", 30),
                                        "score", Map.of("type", "number", "default", 95.5),
                                        "status", Map.of("type", "string", "enum",
                                                List.of("active", "inactive", "pending"), "default", "active"),
                                        "verified", Map.of("type", "boolean", "default", true)))).build())
                                .map(r -> text("Elicitation completed: action=" + r.action().name().toLowerCase()
                                        + ", content=" + r.content()))),
                tool("test_elicitation_sep1330_enums", "Elicitation with enums",
                        (ex, req) -> ex.createElicitation(McpSchema.ElicitRequest.builder("Please choose",
                                Map.of("type", "object", "properties", enumSchemas())).build())
                                .map(r -> text("Elicitation completed: action=" + r.action().name().toLowerCase()
                                        + ", content=" + r.content()))),
                new AsyncToolSpecification(McpSchema.Tool.builder().name("json_schema_2020_12_tool")
                        .description("Tool with JSON Schema 2020-12 features")
                        .inputSchema(Map.of(
                                "$schema", "https://json-schema.org/draft/2020-12/schema",
                                "type", "object",
                                "$defs", Map.of("address", Map.of("type", "object", "properties", Map.of(
                                        "street", Map.of("type", "string"), "city", Map.of("type", "string")))),
                                "properties", Map.of("name", Map.of("type", "string"),
                                        "address", Map.of("$ref", "#/$defs/address")),
                                "additionalProperties", false))
                        .build(), (ex, req) -> Mono.just(text("ok"))));
    }

    static Map<String, Object> enumSchemas() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("untitledSingle", Map.of("type", "string", "enum", List.of("option1", "option2", "option3")));
        p.put("titledSingle", Map.of("type", "string", "oneOf", List.of(
                Map.of("const", "value1", "title", "First Option"), Map.of("const", "value2", "title", "Second Option"),
                Map.of("const", "value3", "title", "Third Option"))));
        p.put("legacyEnum", Map.of("type", "string", "enum", List.of("opt1", "opt2", "opt3"),
                "enumNames", List.of("Option One", "Option Two", "Option Three")));
        p.put("untitledMulti", Map.of("type", "array", "items", Map.of("type", "string", "enum",
                List.of("option1", "option2", "option3"))));
        p.put("titledMulti", Map.of("type", "array", "items", Map.of("anyOf", List.of(
                Map.of("const", "value1", "title", "First Choice"), Map.of("const", "value2", "title", "Second Choice"),
                Map.of("const", "value3", "title", "Third Choice")))));
        return p;
    }

    static Mono<Void> log(McpAsyncServerExchange exchange, String message) {
        return exchange.loggingNotification(McpSchema.LoggingMessageNotification.builder(McpSchema.LoggingLevel.INFO,
                message).logger("conformance").build());
    }

    static Mono<Void> progress(McpAsyncServerExchange exchange, Object token, double value) {
        return token == null ? Mono.empty()
                : exchange.progressNotification(new McpSchema.ProgressNotification(token, value, 100.0, null));
    }

    static McpSchema.PromptMessage user(Content content) {
        return new McpSchema.PromptMessage(Role.USER, content);
    }

    static Mono<McpSchema.GetPromptResult> messages(McpSchema.PromptMessage... messages) {
        return Mono.just(new McpSchema.GetPromptResult(null, List.of(messages)));
    }

    static List<AsyncPromptSpecification> prompts() {
        var simple = new McpSchema.Prompt("test_simple_prompt", "A simple prompt", List.of());
        var withArgs = new McpSchema.Prompt("test_prompt_with_arguments", "A prompt with arguments", List.of(
                new McpSchema.PromptArgument("arg1", "First test argument", true),
                new McpSchema.PromptArgument("arg2", "Second test argument", true)));
        var embedded = new McpSchema.Prompt("test_prompt_with_embedded_resource", "A prompt with an embedded resource",
                List.of(new McpSchema.PromptArgument("resourceUri", "URI of the resource to embed", true)));
        var image = new McpSchema.Prompt("test_prompt_with_image", "A prompt with an image", List.of());
        return List.of(
                new AsyncPromptSpecification(simple,
                        (ex, req) -> messages(user(new TextContent("This is a simple prompt for testing.")))),
                new AsyncPromptSpecification(withArgs,
                        (ex, req) -> messages(user(new TextContent("Prompt with arguments: arg1='"
                                + req.arguments().get("arg1") + "', arg2='" + req.arguments().get("arg2") + "'")))),
                new AsyncPromptSpecification(embedded,
                        (ex, req) -> messages(
                                user(new McpSchema.EmbeddedResource(null, new McpSchema.TextResourceContents(
                                        String.valueOf(req.arguments().get("resourceUri")), "text/plain",
                                        "Embedded resource content for testing."))),
                                user(new TextContent("Please process the embedded resource above.")))),
                new AsyncPromptSpecification(image,
                        (ex, req) -> messages(user(new McpSchema.ImageContent(null, PNG, "image/png")),
                                user(new TextContent("Please analyze the image above.")))));
    }

    static List<AsyncResourceSpecification> resources() {
        return List.of(
                new AsyncResourceSpecification(McpSchema.Resource.builder("test://static-text", "static-text")
                        .description("A static text resource").mimeType("text/plain").build(),
                        (ex, req) -> Mono.just(new McpSchema.ReadResourceResult(List.of(new McpSchema.TextResourceContents(
                                "test://static-text", "text/plain", "This is the content of the static text resource."))))),
                new AsyncResourceSpecification(McpSchema.Resource.builder("test://static-binary", "static-binary")
                        .description("A static binary resource").mimeType("image/png").build(),
                        (ex, req) -> Mono.just(new McpSchema.ReadResourceResult(List.of(new McpSchema.BlobResourceContents(
                                "test://static-binary", "image/png", PNG))))),
                new AsyncResourceSpecification(McpSchema.Resource.builder("test://watched-resource", "watched-resource")
                        .description("A resource clients can subscribe to").mimeType("text/plain").build(),
                        (ex, req) -> Mono.just(new McpSchema.ReadResourceResult(List.of(new McpSchema.TextResourceContents(
                                "test://watched-resource", "text/plain", "Watched resource content."))))));
    }

    static AsyncResourceTemplateSpecification template() {
        return new AsyncResourceTemplateSpecification(new McpSchema.ResourceTemplate("test://template/{id}/data",
                "template", null, "A resource template", "application/json", null),
                (ex, req) -> {
                    String id = req.uri().replaceAll("^test://template/([^/]+)/data$", "$1");
                    return Mono.just(new McpSchema.ReadResourceResult(List.of(new McpSchema.TextResourceContents(
                            req.uri(), "application/json", "{\"id\":\"" + id + "\",\"templateTest\":true,"
                                    + "\"data\":\"Data for ID: " + id + "\"}"))));
                });
    }

    static AsyncCompletionSpecification completion() {
        return new AsyncCompletionSpecification(new McpSchema.PromptReference("test_prompt_with_arguments"),
                (ex, req) -> {
                    String value = req.argument() == null ? "" : req.argument().value();
                    List<String> values = List.of("paris", "park", "party").stream()
                            .filter(v -> v.startsWith(value == null ? "" : value)).toList();
                    return Mono.just(new McpSchema.CompleteResult(new McpSchema.CompleteResult.CompleteCompletion(
                            values, values.size(), false)));
                });
    }
}
