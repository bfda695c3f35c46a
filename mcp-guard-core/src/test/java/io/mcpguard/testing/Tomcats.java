package io.mcpguard.testing;

import jakarta.servlet.http.HttpServlet;
import java.io.File;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/** Starts an embedded Tomcat on a free loopback port serving one servlet; for tests over real HTTP. */
public final class Tomcats {

    private Tomcats() {
    }

    /**
     * A running server.
     *
     * @param tomcat the Tomcat
     * @param port the bound port
     */
    public record Running(Tomcat tomcat, int port) implements AutoCloseable {

        /**
         * Returns the URL of a path on this server.
         *
         * @param path e.g. {@code /mcp}
         * @return the URL on localhost
         */
        public String url(String path) {
            return "http://localhost:" + port + path;
        }

        @Override
        public void close() throws LifecycleException {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    /**
     * Serves the servlet (async-supported, as the SDK's transports need) at the mapping.
     *
     * @param servlet the servlet
     * @param mapping e.g. {@code /mcp}
     * @return the running server
     * @throws Exception if Tomcat cannot start
     */
    public static Running start(HttpServlet servlet, String mapping) throws Exception {
        return start(servlet, mapping, 0);
    }

    /**
     * Serves the servlet with at most {@code maxThreads} request threads (0: Tomcat's default).
     *
     * @param servlet the servlet
     * @param mapping e.g. {@code /mcp}
     * @param maxThreads the request threads, or 0
     * @return the running server
     * @throws Exception if Tomcat cannot start
     */
    public static Running start(HttpServlet servlet, String mapping, int maxThreads) throws Exception {
        File base = Files.createTempDirectory("mcp-guard-tomcat").toFile();
        base.deleteOnExit();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.getAbsolutePath());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        // What docs/security.md asks of a guarded endpoint's container: a refused request's unread body is never
        // swallowed (the connection closes instead), and headers must arrive within a few seconds.
        connector.setProperty("maxSwallowSize", "0");
        connector.setProperty("connectionTimeout", "5000");
        if (maxThreads > 0) {
            connector.setProperty("maxThreads", Integer.toString(maxThreads));
            connector.setProperty("minSpareThreads", Integer.toString(maxThreads));
        }
        tomcat.setConnector(connector);
        org.apache.catalina.valves.ErrorReportValve errors = new org.apache.catalina.valves.ErrorReportValve();
        errors.setShowReport(false);
        errors.setShowServerInfo(false);
        tomcat.getHost().getPipeline().addValve(errors);
        Context context = tomcat.addContext("", base.getAbsolutePath());
        var wrapper = Tomcat.addServlet(context, "mcp", servlet);
        wrapper.setAsyncSupported(true);
        context.addServletMappingDecoded(mapping, "mcp");
        tomcat.start();
        return new Running(tomcat, connector.getLocalPort());
    }
}
