package io.mcpguard.examples;

import jakarta.servlet.http.HttpServlet;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/** Serves one servlet on an embedded Tomcat bound to loopback. */
public final class EmbeddedHttp implements AutoCloseable {

    private final Tomcat tomcat;
    private final int port;

    private EmbeddedHttp(Tomcat tomcat, int port) {
        this.tomcat = tomcat;
        this.port = port;
    }

    /**
     * Starts Tomcat on 127.0.0.1 serving the servlet (async-supported, as the SDK's transports need).
     *
     * @param servlet the servlet
     * @param path the mapping, e.g. {@code /mcp}
     * @param port the port, or 0 for a free one
     * @return the running server
     * @throws IOException if the work directory cannot be made
     * @throws LifecycleException if Tomcat cannot start
     */
    public static EmbeddedHttp start(HttpServlet servlet, String path, int port) throws IOException,
            LifecycleException {
        File base = Files.createTempDirectory("mcp-guard-http").toFile();
        base.deleteOnExit();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.getAbsolutePath());
        Connector connector = new Connector();
        connector.setPort(port);
        connector.setProperty("address", "127.0.0.1");
        // Container settings a guarded endpoint needs (docs/security.md): the body of a refused request is never
        // swallowed (the connection closes instead, so a keyless client trickling a body holds no thread), headers
        // must arrive within 5 s, idle keep-alive connections close after 15 s, connections are capped.
        connector.setProperty("maxSwallowSize", "0");
        connector.setProperty("connectionTimeout", "5000");
        connector.setProperty("keepAliveTimeout", "15000");
        connector.setProperty("maxConnections", "2048");
        tomcat.setConnector(connector);
        // Error pages the container writes itself (a malformed request line, a path nobody serves) name nothing:
        // the gate's plain JSON-RPC errors, no HTML, server name, version or report.
        ((org.apache.catalina.core.StandardHost) tomcat.getHost()).setErrorReportValveClass(
                PlainErrorValve.class.getName());
        Context context = tomcat.addContext("", base.getAbsolutePath());
        var wrapper = Tomcat.addServlet(context, "mcp", servlet);
        wrapper.setAsyncSupported(true);
        context.addServletMappingDecoded(path, "mcp");
        tomcat.start();
        return new EmbeddedHttp(tomcat, connector.getLocalPort());
    }

    /**
     * Returns the bound port.
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    @Override
    public void close() throws LifecycleException {
        tomcat.stop();
        tomcat.destroy();
    }
}
