package io.mcpguard.policy;

import io.mcpguard.support.LogSafe;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Selects resources and resource templates for a grant in a {@link io.mcpguard.Policy}. A static resource is selected
 * by its URI, a template by its URI template text ({@code orders://{id}}); a read of a concrete URI is allowed exactly
 * when the resource or template the server would serve it from is granted, so that the same decision filters
 * {@code resources/list}, {@code resources/templates/list} and protects {@code resources/read}.
 *
 * <pre>{@code
 * ResourceMatcher.uris("payroll://summary")        // one static resource
 * ResourceMatcher.templates("orders://{id}")        // a template and every URI it serves
 * ResourceMatcher.glob("reports://*")               // static URIs and template texts matching the glob
 * }</pre>
 */
public sealed interface ResourceMatcher extends PrimitiveMatcher
        permits ResourceMatcher.Uris, ResourceMatcher.Templates, ResourceMatcher.Glob {

    /** The longest URI or template accepted in a policy. */
    int MAX_URI_LENGTH = 2048;

    /**
     * Returns whether this matcher selects a resource or template.
     *
     * @param uriOrTemplate the static resource's URI, or the template's URI template text
     * @param template {@code true} for a resource template
     * @return {@code true} if selected
     */
    boolean matches(String uriOrTemplate, boolean template);

    /**
     * Selects static resources by exact URI.
     *
     * @param uris one or more URIs
     * @return a matcher
     * @throws IllegalArgumentException for a blank, over-long or control-character URI, or none
     */
    static ResourceMatcher uris(String... uris) {
        return new Uris(Set.copyOf(Arrays.stream(check("uris", uris)).toList()));
    }

    /**
     * Selects resource templates by their exact URI template text, and with them every URI they serve.
     *
     * @param uriTemplates one or more templates, e.g. {@code orders://{id}}
     * @return a matcher
     */
    static ResourceMatcher templates(String... uriTemplates) {
        return new Templates(Set.copyOf(Arrays.stream(check("templates", uriTemplates)).toList()));
    }

    /**
     * Selects static resources whose URI, and templates whose template text, match a glob ({@code *} any run,
     * {@code ?} one character).
     *
     * @param glob the glob, e.g. {@code reports://*}
     * @return a matcher
     */
    static ResourceMatcher glob(String glob) {
        return new Glob(check("glob", new String[] {glob})[0]);
    }

    /**
     * Selects every resource and template.
     *
     * @return a matcher equivalent to {@code glob("*")}
     */
    static ResourceMatcher all() {
        return glob("*");
    }

    private static String[] check(String what, String[] values) {
        Objects.requireNonNull(values, what);
        if (values.length == 0) {
            throw new IllegalArgumentException("ResourceMatcher." + what + " needs at least one value");
        }
        for (String v : values) {
            checkUri(v);
        }
        return values;
    }

    /**
     * Checks a URI, template or glob given in a policy.
     *
     * @param value the value
     * @return the value
     * @throws IllegalArgumentException naming the bad value
     */
    static String checkUri(String value) {
        if (value == null || value.isBlank() || value.length() > MAX_URI_LENGTH || LogSafe.hasControl(value)) {
            throw new IllegalArgumentException("invalid resource URI " + (value == null ? "null"
                    : "'" + LogSafe.text(value, 100) + "'") + ": 1 to " + MAX_URI_LENGTH
                    + " characters without control characters");
        }
        return value;
    }

    /**
     * Exact static resource URIs.
     *
     * @param uris the URIs
     */
    record Uris(Set<String> uris) implements ResourceMatcher {

        /**
         * Copies and checks.
         *
         * @param uris the URIs
         */
        public Uris {
            uris = Set.copyOf(uris);
            uris.forEach(ResourceMatcher::checkUri);
        }

        @Override
        public boolean matches(String uriOrTemplate, boolean template) {
            return !template && uris.contains(uriOrTemplate);
        }

        @Override
        public String canonical() {
            return "resources.uris(" + String.join(",", new TreeSet<>(uris)) + ")";
        }
    }

    /**
     * Exact template texts.
     *
     * @param templates the templates
     */
    record Templates(Set<String> templates) implements ResourceMatcher {

        /**
         * Copies and checks.
         *
         * @param templates the templates
         */
        public Templates {
            templates = Set.copyOf(templates);
            templates.forEach(ResourceMatcher::checkUri);
        }

        @Override
        public boolean matches(String uriOrTemplate, boolean template) {
            return template && templates.contains(uriOrTemplate);
        }

        @Override
        public String canonical() {
            return "resources.templates(" + String.join(",", new TreeSet<>(templates)) + ")";
        }
    }

    /**
     * A glob over static URIs and template texts.
     *
     * @param glob the glob
     */
    record Glob(String glob) implements ResourceMatcher {

        /**
         * Checks.
         *
         * @param glob the glob
         */
        public Glob {
            checkUri(glob);
        }

        @Override
        public boolean matches(String uriOrTemplate, boolean template) {
            return Globs.matches(glob, uriOrTemplate);
        }

        @Override
        public String canonical() {
            return "resources.glob(" + glob + ")";
        }
    }
}
