package io.mcpguard.benchmarks;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.transport.McpGuardHttp;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.catalina.startup.Tomcat;

/**
 * A blind timing prober against the guarded server over Streamable HTTP on loopback: an agent with a valid key calls
 * candidate tool names, half of them registered but hidden from it and half missing altogether, interleaved in random
 * order, and times each answer. It then guesses, for every (hidden, missing) pair, that the slower name (by median)
 * is the hidden one. With hidden and missing names answered by the same code after the same work, the guess is right
 * about half the time; the printout gives its accuracy, a 95 % interval, and a Mann-Whitney test over all samples.
 *
 * <pre>java -cp benchmarks.jar io.mcpguard.benchmarks.ProbeBenchmark [names per side] [calls per name]</pre>
 */
public final class ProbeBenchmark {

    private ProbeBenchmark() {
    }

    /**
     * Runs the prober.
     *
     * @param args names per side (default 10), calls per name (default 600)
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        int perSide = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int calls = args.length > 1 ? Integer.parseInt(args[1]) : 600;
        String key = "probe-key-0123456789abcdef";
        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder()
                .key("k", key, AgentIdentity.builder("prober").scopes("public").build()).build();
        List<String> hidden = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<SyncToolSpecification> tools = new ArrayList<>();
        tools.add(tool("public_echo"));
        for (int i = 0; i < perSide; i++) {
            hidden.add("admin_op_" + i);
            missing.add("admin_ox_" + i);
            tools.add(tool("admin_op_" + i));
        }
        McpGuard guard = McpGuard.builder().audit(null)
                .policy(Policy.builder().scope("public", ToolMatcher.names("public_echo")).build()).build();
        McpGuardHttp<?> http = McpGuardHttp.streamable(guard, keys).build();
        McpSyncServer server = guard.install(McpServer.sync(
                (io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider) http.transport())
                .serverInfo("probe", "1").immediateExecution(true)).tools(tools).build();
        Tomcat tomcat = LoadBenchmark.tomcat(http.servlet());
        try {
            String url = "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/mcp";
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String session = initialize(client, url, key);
            List<String> names = new ArrayList<>(hidden);
            names.addAll(missing);
            Map<String, long[]> samples = new java.util.HashMap<>();
            names.forEach(n -> samples.put(n, new long[calls]));
            Random random = new Random(42);
            for (int warm = 0; warm < 2_000; warm++) {
                send(client, url, key, session, names.get(warm % names.size()));
            }
            for (int round = 0; round < calls; round++) {
                List<String> order = new ArrayList<>(names);
                Collections.shuffle(order, random);
                for (String name : order) {
                    samples.get(name)[round] = send(client, url, key, session, name);
                }
            }
            report(hidden, missing, samples, calls);
        } finally {
            server.close();
            tomcat.stop();
            tomcat.destroy();
            http.close();
            guard.close();
        }
    }

    static SyncToolSpecification tool(String name) {
        return new SyncToolSpecification(McpSchema.Tool.builder().name(name).inputSchema(Map.of("type", "object"))
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build(),
                (exchange, request) -> McpSchema.CallToolResult.builder().addTextContent(name).build());
    }

    static String initialize(HttpClient client, String url, String key) throws Exception {
        HttpResponse<String> response = client.send(request(url, key, null, "{\"jsonrpc\":\"2.0\",\"id\":1,"
                + "\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
                + "\"clientInfo\":{\"name\":\"prober\",\"version\":\"1\"}}}"), HttpResponse.BodyHandlers.ofString());
        String session = response.headers().firstValue("Mcp-Session-Id").orElseThrow();
        client.send(request(url, key, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"),
                HttpResponse.BodyHandlers.ofString());
        return session;
    }

    static HttpRequest request(String url, String key, String session, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (session != null) {
            b.header("Mcp-Session-Id", session);
        }
        return b.build();
    }

    static long send(HttpClient client, String url, String key, String session, String name) throws Exception {
        HttpRequest request = request(url, key, session, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
                + "\"params\":{\"name\":\"" + name + "\",\"arguments\":{}}}");
        long start = System.nanoTime();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        long elapsed = System.nanoTime() - start;
        if (!response.body().contains("Tool not found: " + name)) {
            throw new IllegalStateException("unexpected answer: " + response.body());
        }
        return elapsed;
    }

    static long median(long[] values) {
        long[] copy = values.clone();
        Arrays.sort(copy);
        return copy[copy.length / 2];
    }

    static void report(List<String> hidden, List<String> missing, Map<String, long[]> samples, int calls) {
        int right = 0;
        int pairs = 0;
        for (String h : hidden) {
            for (String m : missing) {
                pairs++;
                if (median(samples.get(h)) > median(samples.get(m))) {
                    right++;
                }
            }
        }
        double accuracy = right / (double) pairs;
        // Names are independent of one another; the pairs are not, so the interval is taken over names per side.
        double half = 1.96 * Math.sqrt(0.25 / Math.min(hidden.size(), missing.size()));
        long[] h = hidden.stream().flatMapToLong(n -> Arrays.stream(samples.get(n))).toArray();
        long[] m = missing.stream().flatMapToLong(n -> Arrays.stream(samples.get(n))).toArray();
        double z = mannWhitneyZ(h, m);
        double n1 = h.length;
        double n2 = m.length;
        // The probability that one hidden answer is slower than one missing answer (the Mann-Whitney AUC): what an
        // ideal single-sample classifier achieves. 0.5 is chance; its 95 % interval under no difference is below.
        double auc = 0.5 + z * Math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12) / (n1 * n2);
        double aucHalf = 1.96 * Math.sqrt((n1 + n2 + 1) / (12 * n1 * n2));
        System.out.printf("Probe: %d hidden and %d missing names, %d calls each, interleaved, Streamable HTTP on "
                + "127.0.0.1%n", hidden.size(), missing.size(), calls);
        System.out.printf("median answer time: hidden %.1f us, missing %.1f us (difference %+.1f us)%n",
                median(h) / 1e3, median(m) / 1e3, (median(h) - median(m)) / 1e3);
        System.out.printf("prober's pairwise accuracy (slower median = hidden): %d/%d = %.1f %% (chance 50 %%, "
                + "+-%.1f points at 95 %% for %d names per side)%n", right, pairs, accuracy * 100, half * 100,
                hidden.size());
        System.out.printf("Mann-Whitney U over all samples: z = %.2f (|z| < 1.96: no difference at the 5 %% level)%n",
                z);
        System.out.printf("one answer each, the slower one called hidden: right %.1f %% of the time (chance 50 %%, "
                + "+-%.1f points at 95 %%)%n", auc * 100, aucHalf * 100);
    }

    /** The normal approximation of the Mann-Whitney U statistic, with tie correction left out (timings rarely tie). */
    static double mannWhitneyZ(long[] a, long[] b) {
        long[][] all = new long[a.length + b.length][];
        int k = 0;
        for (long v : a) {
            all[k++] = new long[] {v, 0};
        }
        for (long v : b) {
            all[k++] = new long[] {v, 1};
        }
        Arrays.sort(all, (x, y) -> Long.compare(x[0], y[0]));
        double rankSumA = 0;
        for (int i = 0; i < all.length; i++) {
            if (all[i][1] == 0) {
                rankSumA += i + 1;
            }
        }
        double n1 = a.length;
        double n2 = b.length;
        double u = rankSumA - n1 * (n1 + 1) / 2;
        double mean = n1 * n2 / 2;
        double sd = Math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12);
        return (u - mean) / sd;
    }
}
