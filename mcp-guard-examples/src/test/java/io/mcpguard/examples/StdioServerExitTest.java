package io.mcpguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The guarded stdio server is a real subprocess that ends when its client closes its input (how the MCP stdio
 * transport ends a server) and when it is told to stop, so that no JVM outlives its client.
 */
class StdioServerExitTest {

    private Process process;

    @AfterEach
    void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    private Process start() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                OrderServer.class.getName(), "--stdio", "--agent", "billing-agent")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        return process;
    }

    private static String initialize(Process process) throws Exception {
        OutputStream in = process.getOutputStream();
        in.write(("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n")
                .getBytes(StandardCharsets.UTF_8));
        in.flush();
        var out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        return out.readLine();
    }

    @Test
    void serverExitsWhenItsClientClosesItsInput() throws Exception {
        Process server = start();
        assertThat(initialize(server)).contains("\"serverInfo\"").contains("\"orders\"");

        server.getOutputStream().close();

        assertThat(server.waitFor(20, TimeUnit.SECONDS)).as("server exited after its input closed").isTrue();
        assertThat(server.exitValue()).isZero();
    }

    @Test
    void serverExitsOnSigterm() throws Exception {
        Process server = start();
        assertThat(initialize(server)).contains("\"serverInfo\"");

        server.destroy(); // SIGTERM

        assertThat(server.waitFor(20, TimeUnit.SECONDS)).as("server exited on SIGTERM").isTrue();
    }
}
