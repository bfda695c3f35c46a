package io.mcpguard.audit;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.Served;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.concurrent.CountDownLatch;

/**
 * A guarded server writing a signed audit chain, run as a subprocess by {@link AuditCrashTest} so that it can be
 * killed with SIGKILL under load. Prints {@code READY <port>} once it serves; closes the guard (signing the close
 * checkpoint) on a normal shutdown.
 */
public final class CrashingServer {

    static final String KEY = "sk-load-0123456789abcdef";

    private CrashingServer() {
    }

    /**
     * Runs the server.
     *
     * @param args the audit file, and the PKCS#8 private signing key file
     * @throws Exception if it cannot start
     */
    public static void main(String[] args) throws Exception {
        PrivateKey key = KeyFactory.getInstance("Ed25519").generatePrivate(
                new PKCS8EncodedKeySpec(Files.readAllBytes(Path.of(args[1]))));
        McpGuard guard = McpGuard.builder()
                .policy(Policy.builder().scope("all", ToolMatcher.all()).build())
                .audit(JsonLinesAuditSink.builder(Path.of(args[0])).signingKey(key, "crash-test").build())
                .build();
        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder()
                .key("k", KEY, AgentIdentity.builder("loader").scopes("all").build()).build();
        GatedHttp http = GatedHttp.streamable(guard, keys, Served.of().echo("get_order"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                http.close(); // closes the guard: the trail is written out and its close checkpoint signed
            } catch (Exception e) {
                e.printStackTrace(System.err);
            }
        }));
        System.out.println("READY " + http.port());
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
