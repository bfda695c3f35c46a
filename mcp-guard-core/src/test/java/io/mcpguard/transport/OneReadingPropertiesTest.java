package io.mcpguard.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.RawMcpHttp;
import io.mcpguard.testing.Served;
import io.mcpguard.testing.Tomcats;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import java.net.http.HttpResponse;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The gate reads each request once, with the SDK's own parser, and so concludes what the SDK concludes: for generated
 * {@code tools/call} bodies (names of every JSON type, escaped, duplicated keys, notifications, padded bodies), a
 * guarded server whose policy grants every tool answers exactly what an unguarded SDK server answers, and every call
 * the SDK would have dispatched to a name it does not know is in the audit trail.
 */
class OneReadingPropertiesTest {

    static final String KEY = "sk-prober-0123456789abcdef";
    static final LinkedBlockingQueue<AuditRecord> AUDIT = new LinkedBlockingQueue<>();
    static GatedHttp guarded;
    static Tomcats.Running plain;
    static McpSyncServer plainServer;
    static RawMcpHttp guardedClient;
    static RawMcpHttp plainClient;

    @BeforeContainer
    static void start() throws Exception {
        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder()
                .key("k", KEY, AgentIdentity.builder("prober").scopes("all").build()).build();
        guarded = GatedHttp.streamable(McpGuard.builder().audit(AUDIT::add)
                .policy(Policy.builder().scope("all", ToolMatcher.all())
                        // every probe recorded one by one: this property is about reading, not aggregating
                        .probes(io.mcpguard.quota.ProbeLimit.perAgent(1_000_000, java.time.Duration.ofHours(1))
                                .recordFirst(1_000_000)).build()).build(), keys,
                Served.of().echo("get_order", "list_orders"));
        var transport = HttpServletStreamableServerTransportProvider.builder().mcpEndpoint("/mcp").build();
        plainServer = McpServer.sync(transport).serverInfo("test", "1.0.0").immediateExecution(true)
                .tools(Tools.echo("get_order"), Tools.echo("list_orders")).build();
        plain = Tomcats.start(transport, "/mcp");
        guardedClient = guarded.raw(KEY);
        guardedClient.initialize();
        plainClient = new RawMcpHttp(plain.url("/mcp"), null);
        plainClient.initialize();
    }

    @AfterContainer
    static void stop() throws Exception {
        guarded.close();
        plainServer.close();
        plain.close();
    }

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.of("\"get_order\"", "\"list_orders\"", "\"missing_tool\"", "\"\\u0067et_order\"",
                "\"get_order \"", "\"GET_ORDER\"", "5", "5.0", "true", "false", "-1", "\"\"", "\"x\\\"y\"",
                "\"\\u00e9t\\u00e9\"");
    }

    @Provide
    Arbitrary<String> bodies() {
        Arbitrary<String> id = Arbitraries.of("1", "\"abc\"", "999999999999", null);
        Arbitrary<String> padding = Arbitraries.of("", ",\"pad\":\"" + "p".repeat(70_000) + "\"");
        Arbitrary<Integer> layout = Arbitraries.integers().between(0, 3);
        return Combinators.combine(names(), names(), id, padding, layout).as((name, second, rid, pad, how) -> {
            String params = switch (how) {
                case 0 -> "{\"name\":" + name + ",\"arguments\":{\"id\":\"o-1\"}" + pad + "}";
                case 1 -> "{\"name\":" + second + ",\"name\":" + name + ",\"arguments\":{\"id\":\"o-1\"}}";
                case 2 -> "{\"arguments\":{\"id\":\"o-1\",\"name\":" + second + "},\"name\":" + name + "}";
                default -> "{\"_meta\":{\"name\":" + second + "},\"name\":" + name + ",\"arguments\":{\"id\":\"o-1\"}}";
            };
            return "{\"jsonrpc\":\"2.0\"" + (rid == null ? "" : ",\"id\":" + rid)
                    + ",\"method\":\"tools/call\",\"params\":" + params + pad + "}";
        });
    }

    static final Pattern NOT_FOUND = Pattern.compile("Tool not found: ((?:[^\"\\\\]|\\\\.)*)\"");

    @Property(tries = 120)
    void theGuardedServerAnswersWhatTheSdkWouldAndRecordsEveryUnknownName(@ForAll("bodies") String body)
            throws Exception {
        AUDIT.clear();
        HttpResponse<String> sdk = plainClient.post(body);
        HttpResponse<String> gate = guardedClient.post(body);

        assertThat(gate.statusCode()).as("status for %s", abbreviated(body)).isEqualTo(sdk.statusCode());
        String sdkMessage = RawMcpHttp.message(sdk);
        // The guard adds its reason code to a refusal it shares with the SDK (invalid arguments); nothing else differs.
        String gateMessage = RawMcpHttp.message(gate)
                .replaceAll(",\"_meta\":\\{\"io\\.mcpguard/reason\":\"[a-z_]+\"\\}", "");
        assertThat(gateMessage).as("answer for %s", abbreviated(body)).isEqualTo(sdkMessage);

        Matcher unknown = NOT_FOUND.matcher(sdkMessage);
        if (unknown.find()) {
            // Records are written asynchronously: an earlier try's may still arrive; look for this one's by its name.
            String name = McpJsonDefaults.getMapper().readValue("\"" + unknown.group(1) + "\"", String.class);
            AuditRecord record = null;
            for (int i = 0; i < 100 && record == null; i++) {
                AuditRecord next = AUDIT.poll(100, TimeUnit.MILLISECONDS);
                if (next instanceof AuditRecord.CallDecided && "unknown_tool".equals(next.fields().get("reason"))
                        && sameName(name, (String) next.fields().get("target"))) {
                    record = next;
                }
            }
            assertThat(record).as("the unknown name is audited for %s", abbreviated(body)).isNotNull();
        }
    }

    /** The audit trail records long names cut, with "..." appended, and leaves an empty one out. */
    static boolean sameName(String name, String recorded) {
        return recorded == null ? name.isEmpty() : (recorded.equals(name)
                || recorded.endsWith("...") && name.startsWith(recorded.substring(0, recorded.length() - 3)));
    }

    static String abbreviated(String body) {
        return body.length() <= 300 ? body : body.substring(0, 300) + "... (" + body.length() + " chars)";
    }
}
