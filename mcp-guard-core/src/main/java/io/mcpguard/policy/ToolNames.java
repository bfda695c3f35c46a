package io.mcpguard.policy;

import java.util.regex.Pattern;

/**
 * The MCP tool-name rules (specification 2025-11-25, "Tool names"): 1 to 128 characters of ASCII letters, digits,
 * underscore, hyphen and dot. Policies are checked against them when built, so that a typo or an impossible name is
 * caught before the server starts.
 */
public final class ToolNames {

    /** The longest tool name the specification allows. */
    public static final int MAX_LENGTH = 128;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1," + MAX_LENGTH + "}");
    private static final Pattern GLOB = Pattern.compile("[A-Za-z0-9_.*?-]{1," + MAX_LENGTH + "}");

    private ToolNames() {
    }

    /**
     * Returns whether a name follows the MCP tool-name rules.
     *
     * @param name the name
     * @return {@code true} if valid
     */
    public static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /**
     * Checks a tool name.
     *
     * @param name the name
     * @return the name
     * @throws IllegalArgumentException naming the bad value and the rule
     */
    public static String check(String name) {
        if (!isValid(name)) {
            throw new IllegalArgumentException("invalid tool name " + describe(name)
                    + ": MCP tool names are 1 to 128 characters of A-Z a-z 0-9 _ - .");
        }
        return name;
    }

    /**
     * Checks a glob over tool names: the tool-name alphabet plus {@code *} (any run) and {@code ?} (one character).
     *
     * @param glob the glob
     * @return the glob
     * @throws IllegalArgumentException naming the bad value
     */
    public static String checkGlob(String glob) {
        if (glob == null || !GLOB.matcher(glob).matches()) {
            throw new IllegalArgumentException("invalid tool-name glob " + describe(glob)
                    + ": use the tool-name alphabet (A-Z a-z 0-9 _ - .) with * and ?");
        }
        return glob;
    }

    private static String describe(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("'");
        value.codePoints().limit(MAX_LENGTH + 8L).forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) {
                out.appendCodePoint(cp);
            } else {
                out.append(String.format("\\u%04X", cp));
            }
        });
        return out.append(value.length() > MAX_LENGTH + 8 ? "...'" : "'").toString();
    }
}
