package io.mcpguard.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.McpGuard;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.testing.RawMcpHttp;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guarded server killed with SIGKILL in the middle of a load: the trail loses at most what was written within the
 * last flush interval, the verifier calls it incomplete (a crash), not tampered, and after a restart and a clean stop
 * the file verifies with a note of the crash. Real subprocess, real HTTP on loopback, bounded counts.
 */
class AuditCrashTest {

    @TempDir
    Path dir;

    record Acked(String argumentsSha256, long atNanos) {
    }

    Process start(Path audit, Path key) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", CrashingServer.class.getName(), audit.toString(),
                key.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        return process;
    }

    static int port(Process process) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("the server started").startsWith("READY ");
        return Integer.parseInt(line.substring(6).trim());
    }

    @Test
    void killedUnderLoadTheTrailLosesAtMostTheLastFlushIntervalAndRecovers() throws Exception {
        KeyPair keys = AuditKeys.generate();
        Path key = dir.resolve("signing.pk8");
        Files.write(key, keys.getPrivate().getEncoded());
        Path audit = dir.resolve("audit.jsonl");

        Process server = start(audit, key);
        int port = port(server);
        String url = "http://localhost:" + port + "/mcp";
        ConcurrentLinkedQueue<Acked> acked = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger ids = new AtomicInteger();
        ExecutorService load = Executors.newFixedThreadPool(4);
        for (int t = 0; t < 4; t++) {
            load.submit(() -> {
                RawMcpHttp client = new RawMcpHttp(url, "Bearer " + CrashingServer.KEY);
                client.initialize();
                while (running.get()) {
                    String id = "o-" + ids.incrementAndGet();
                    var answer = client.post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                            + "{\"name\":\"get_order\",\"arguments\":{\"id\":\"" + id + "\"}}}");
                    if (answer.statusCode() == 200 && RawMcpHttp.message(answer).contains("get_order:" + id)) {
                        acked.add(new Acked(CanonicalJson.sha256(CanonicalJson.ofExact(Map.of("id", id))),
                                System.nanoTime()));
                    }
                }
                return null;
            });
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (acked.size() < 1500 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20); // letting the load run, not timing the server
        }
        long killedAt = System.nanoTime();
        server.destroyForcibly(); // SIGKILL: no shutdown hook, no close checkpoint
        assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        running.set(false);
        load.shutdown();
        load.awaitTermination(30, TimeUnit.SECONDS);
        assertThat(acked.size()).as("a real load ran").isGreaterThan(500);

        AuditVerifier.Result crashed = AuditVerifier.verify(audit, keys.getPublic());
        assertThat(crashed.status()).as(crashed.toString()).isEqualTo(AuditVerifier.Status.INCOMPLETE);

        Set<String> recorded = new HashSet<>();
        for (String line : Files.readAllLines(audit, StandardCharsets.UTF_8)) {
            if (line.contains("\"type\":\"call.decision\"") && line.contains("\"decision\":\"allow\"")) {
                int at = line.indexOf("\"argumentsSha256\":\"") + 19;
                recorded.add(line.substring(at, at + 64));
            }
        }
        // Calls answered more than a flush interval (and a generous margin for scheduling) before the kill are in.
        long bound = killedAt - McpGuard.DEFAULT_AUDIT_FLUSH_INTERVAL.toNanos() - Duration.ofMillis(500).toNanos();
        List<Acked> missing = new ArrayList<>();
        int old = 0;
        for (Acked call : acked) {
            if (call.atNanos() < bound) {
                old++;
                if (!recorded.contains(call.argumentsSha256())) {
                    missing.add(call);
                }
            }
        }
        assertThat(old).isGreaterThan(100);
        assertThat(missing).as("decisions of calls answered well before the kill are all in the trail").isEmpty();

        Process again = start(audit, key);
        port(again);
        again.destroy(); // SIGTERM: the shutdown hook closes the guard
        assertThat(again.waitFor(30, TimeUnit.SECONDS)).isTrue();
        AuditVerifier.Result recovered = AuditVerifier.verify(audit, keys.getPublic());
        assertThat(recovered.ok()).as(recovered.toString()).isTrue();
        assertThat(recovered.notes()).hasSize(1);
        assertThat(Files.readString(audit)).as("the buffer never overflowed under this load: no record was lost")
                .doesNotContain("\"type\":\"audit.gap\"");
    }
}
