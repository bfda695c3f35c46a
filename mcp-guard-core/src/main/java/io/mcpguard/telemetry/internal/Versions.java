package io.mcpguard.telemetry.internal;

/** The library's version, for instrumentation scopes. Unstable API. */
final class Versions {

    static final String LIBRARY = version();

    private Versions() {
    }

    private static String version() {
        String v = Versions.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
