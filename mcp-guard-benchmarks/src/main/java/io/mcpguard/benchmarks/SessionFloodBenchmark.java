package io.mcpguard.benchmarks;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.transport.McpGuardHttp;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import java.lang.management.ManagementFactory;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.startup.Tomcat;

/**
 * One agent with a valid key opens sessions as fast as it can (the flood: 5,000), first against a plain SDK
 * Streamable HTTP server, then against the same server behind the guard's gate, in one run. Prints sessions accepted
 * and refused, the time taken, and the heap in use after a full GC before the flood, after it, and once the idle
 * time-out has passed.
 *
 * <pre>java -cp benchmarks.jar io.mcpguard.benchmarks.SessionFloodBenchmark [sessions] [threads] [idle seconds]</pre>
 */
public final class SessionFloodBenchmark {

    private static final String KEY = "flood-key-0123456789abcdef";

    private SessionFloodBenchmark() {
    }

    /**
     * Runs the flood.
     *
     * @param args sessions (default 5000), client threads (default 8), idle time-out in seconds (default 5)
     * @throws Exception if a server cannot start
     */
    public static void main(String[] args) throws Exception {
        int sessions = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        Duration idle = Duration.ofSeconds(args.length > 2 ? Integer.parseInt(args[2]) : 5);
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");

        var plain = HttpServletStreamableServerTransportProvider.builder().mcpEndpoint("/mcp")
                .sessionSweepInterval(idle).build();
        McpSyncServer plainServer = McpServer.sync(plain).serverInfo("flood", "1").immediateExecution(true).build();
        run("unguarded SDK server", plain, plainServer, sessions, threads, idle);

        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder()
                .key("k", KEY, AgentIdentity.builder("flooder").scopes("all").build()).build();
        McpGuard guard = McpGuard.builder().audit(null)
                .policy(Policy.builder().scope("all", ToolMatcher.all()).build()).build();
        McpGuardHttp<HttpServletStreamableServerTransportProvider> http = McpGuardHttp.streamable(guard, keys)
                .sessionIdleTimeout(idle).build();
        McpSyncServer guarded = guard.install(McpServer.sync(http.transport()).serverInfo("flood", "1")
                .immediateExecution(true)).build();
        run("guarded (16 sessions per agent, " + idle.toSeconds() + " s idle)", http.servlet(), guarded, sessions,
                threads, idle);
        System.out.println("gate sessions open at the end: " + http.gate().openSessions());
        http.close();
        guard.close();
    }

    private static void run(String label, jakarta.servlet.http.HttpServlet servlet, McpSyncServer server,
            int sessions, int threads, Duration idle) throws Exception {
        Tomcat tomcat = LoadBenchmark.tomcat(servlet);
        String url = "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/mcp";
        long before = heapAfterGc();
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long start = System.nanoTime();
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int share = sessions / threads + (t < sessions % threads ? 1 : 0);
            work.add(pool.submit(() -> {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                for (int i = 0; i < share; i++) {
                    HttpResponse<String> response = client.send(ProbeBenchmark.request(url, KEY, null,
                            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                                    + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"flood\","
                                    + "\"version\":\"1\"}}}"), HttpResponse.BodyHandlers.ofString());
                    (response.statusCode() == 200 ? accepted : refused).incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> f : work) {
            f.get();
        }
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        pool.shutdown();
        long after = heapAfterGc();
        // Two sweep intervals pass: the transport's sweep closes sessions idle for a whole interval.
        TimeUnit.MILLISECONDS.sleep(idle.toMillis() * 2 + 500);
        long expired = heapAfterGc();
        System.out.printf("%s: %d initialize requests in %d ms: %d accepted, %d refused; heap after GC %.1f MB before,"
                + " %.1f MB after the flood (+%.1f MB), %.1f MB after the idle time-out%n", label, sessions, tookMs,
                accepted.get(), refused.get(), before / 1e6, after / 1e6, (after - before) / 1e6, expired / 1e6);
        server.close();
        tomcat.stop();
        tomcat.destroy();
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            TimeUnit.MILLISECONDS.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
