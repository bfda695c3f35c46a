package io.mcpguard.benchmarks;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.File;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * End-to-end load over real Streamable HTTP on loopback: the same trivial tool served unguarded and guarded (API keys,
 * scopes, argument validation, the default audit trail), driven by N concurrent agents, each with its own SDK client
 * and session. Reports throughput and p50/p99/p99.9 latency for both and their ratios. Bounded: it stops by itself
 * after the configured seconds and sends traffic only to 127.0.0.1.
 *
 * <p>{@code java -cp mcp-guard-benchmarks/target/benchmarks.jar io.mcpguard.benchmarks.LoadBenchmark [agents]
 * [seconds]}
 */
public final class LoadBenchmark {

    private LoadBenchmark() {
    }

    record Result(String label, long calls, double seconds, long[] latenciesNanos, long errors) {

        double throughput() {
            return calls / seconds;
        }

        double percentileMicros(double p) {
            if (latenciesNanos.length == 0) {
                return Double.NaN;
            }
            int index = (int) Math.min(latenciesNanos.length - 1, Math.ceil(p / 100.0 * latenciesNanos.length) - 1);
            return latenciesNanos[Math.max(0, index)] / 1000.0;
        }
    }

    /**
     * Runs the benchmark.
     *
     * @param args agents (default 16), measured seconds per round (default 10)
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        int agents = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        java.util.logging.Logger.getLogger("org.apache").setLevel(java.util.logging.Level.WARNING);

        SyncToolSpecification echo = new SyncToolSpecification(McpSchema.Tool.builder().name("get_order")
                .inputSchema(Map.of("type", "object", "properties", Map.of("id", Map.of("type", "string")),
                        "required", List.of("id")))
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build(),
                (exchange, request) -> McpSchema.CallToolResult.builder()
                        .addTextContent("order " + request.arguments().get("id")).isError(false).build());

        var keys = ApiKeyAuthenticator.builder();
        List<String> secrets = new ArrayList<>();
        for (int i = 0; i < agents; i++) {
            String secret = "bench-key-" + i + "-0123456789abcdef";
            secrets.add(secret);
            keys.key("key-" + i, secret, AgentIdentity.builder("agent-" + i).scopes("orders").build());
        }
        ApiKeyAuthenticator authenticator = keys.build();

        var plainTransport = HttpServletStreamableServerTransportProvider.builder().mcpEndpoint("/mcp").build();
        McpSyncServer plain = McpServer.sync(plainTransport).serverInfo("plain", "1").immediateExecution(true)
                .tools(echo).build();
        McpGuard guard = McpGuard.builder()
                .policy(Policy.builder().scope("orders", ToolMatcher.names("get_order")).build()).build();
        var gated = io.mcpguard.transport.McpGuardHttp.streamable(guard, authenticator).build();
        McpSyncServer guarded = guard.install(McpServer.sync(gated.transport()).serverInfo("guarded", "1")
                .immediateExecution(true), List.of(echo)).build();
        Tomcat plainHttp = tomcat(plainTransport);
        Tomcat guardedHttp = tomcat(gated.servlet());
        int plainPort = plainHttp.getConnector().getLocalPort();
        int guardedPort = guardedHttp.getConnector().getLocalPort();

        System.out.printf("Load: %d agents, %d s per round, Streamable HTTP on 127.0.0.1, %d cores, %s%n", agents,
                seconds, Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"));
        List<Result> results = new ArrayList<>();
        // Warm both up, then alternate rounds so neither always runs first.
        run("warm-up plain", plainPort, null, agents, Math.max(3, seconds / 2));
        run("warm-up guarded", guardedPort, secrets, agents, Math.max(3, seconds / 2));
        for (int round = 0; round < 2; round++) {
            results.add(run("unguarded", plainPort, null, agents, seconds));
            results.add(run("guarded", guardedPort, secrets, agents, seconds));
        }
        Result unguarded = merge("unguarded", results);
        Result guardedResult = merge("guarded", results);
        System.out.printf("%n%-10s %12s %10s %10s %10s %8s%n", "server", "calls/s", "p50 us", "p99 us", "p99.9 us",
                "errors");
        for (Result r : List.of(unguarded, guardedResult)) {
            System.out.printf("%-10s %12.0f %10.0f %10.0f %10.0f %8d%n", r.label(), r.throughput(),
                    r.percentileMicros(50), r.percentileMicros(99), r.percentileMicros(99.9), r.errors());
        }
        System.out.printf("guarded/unguarded: throughput %.1f%%, p50 %+.1f%%, p99 %+.1f%%, p99.9 %+.1f%%%n",
                100 * guardedResult.throughput() / unguarded.throughput(),
                pct(guardedResult.percentileMicros(50), unguarded.percentileMicros(50)),
                pct(guardedResult.percentileMicros(99), unguarded.percentileMicros(99)),
                pct(guardedResult.percentileMicros(99.9), unguarded.percentileMicros(99.9)));

        plain.close();
        guarded.close();
        guard.close();
        plainHttp.stop();
        guardedHttp.stop();
        System.exit(0);
    }

    static double pct(double a, double b) {
        return 100.0 * (a - b) / b;
    }

    static Result merge(String label, List<Result> results) {
        long calls = 0;
        double seconds = 0;
        long errors = 0;
        List<long[]> all = new ArrayList<>();
        for (Result r : results) {
            if (r.label().equals(label)) {
                calls += r.calls();
                seconds += r.seconds();
                errors += r.errors();
                all.add(r.latenciesNanos());
            }
        }
        long[] merged = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(label, calls, seconds, merged, errors);
    }

    static Result run(String label, int port, List<String> secrets, int agents, int seconds) throws Exception {
        List<McpSyncClient> clients = new ArrayList<>();
        for (int i = 0; i < agents; i++) {
            var builder = HttpClientStreamableHttpTransport.builder("http://127.0.0.1:" + port).endpoint("/mcp");
            if (secrets != null) {
                builder.requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + secrets.get(i)));
            }
            McpSyncClient client = McpClient.sync(builder.build()).requestTimeout(Duration.ofSeconds(30)).build();
            client.initialize();
            clients.add(client);
        }
        AtomicBoolean stop = new AtomicBoolean();
        long[][] latencies = new long[agents][];
        int[] counts = new int[agents];
        long[] errors = new long[agents];
        CountDownLatch done = new CountDownLatch(agents);
        long start = System.nanoTime();
        for (int i = 0; i < agents; i++) {
            int agent = i;
            Thread thread = new Thread(() -> {
                long[] mine = new long[1 << 16];
                int n = 0;
                var request = new McpSchema.CallToolRequest("get_order", Map.of("id", "o-" + agent));
                while (!stop.get()) {
                    long t0 = System.nanoTime();
                    try {
                        var result = clients.get(agent).callTool(request);
                        if (Boolean.TRUE.equals(result.isError())) {
                            errors[agent]++;
                        }
                    } catch (RuntimeException e) {
                        errors[agent]++;
                    }
                    if (n == mine.length) {
                        mine = Arrays.copyOf(mine, n * 2);
                    }
                    mine[n++] = System.nanoTime() - t0;
                }
                latencies[agent] = mine;
                counts[agent] = n;
                done.countDown();
            }, "load-" + i);
            thread.setDaemon(true);
            thread.start();
        }
        long deadline = start + Duration.ofSeconds(seconds).toNanos();
        while (System.nanoTime() < deadline) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                done.await(Math.min(left, 100_000_000L), java.util.concurrent.TimeUnit.NANOSECONDS);
            }
        }
        stop.set(true);
        done.await();
        double elapsed = (System.nanoTime() - start) / 1e9;
        clients.forEach(McpSyncClient::close);
        long calls = 0;
        long errorCount = 0;
        List<long[]> parts = new ArrayList<>();
        for (int i = 0; i < agents; i++) {
            calls += counts[i];
            errorCount += errors[i];
            parts.add(Arrays.copyOf(latencies[i], counts[i]));
        }
        long[] merged = parts.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        Result result = new Result(label, calls, elapsed, merged, errorCount);
        System.out.printf("  %-16s %8d calls in %.1f s = %8.0f calls/s, p50 %6.0f us, p99 %6.0f us, errors %d%n",
                label, calls, elapsed, result.throughput(), result.percentileMicros(50), result.percentileMicros(99),
                errorCount);
        return result;
    }

    static Tomcat tomcat(jakarta.servlet.http.HttpServlet servlet) throws Exception {
        File base = Files.createTempDirectory("mcp-guard-load").toFile();
        base.deleteOnExit();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.getAbsolutePath());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", base.getAbsolutePath());
        Tomcat.addServlet(context, "mcp", servlet).setAsyncSupported(true);
        context.addServletMappingDecoded("/mcp", "mcp");
        tomcat.start();
        return tomcat;
    }
}
