package io.mcpguard.policy;

/** Glob matching over names and URIs: {@code *} matches any run of characters, {@code ?} exactly one. */
final class Globs {

    private Globs() {
    }

    /**
     * Matches without a regex engine: iterative, with one backtrack point, linear in practice.
     *
     * @param glob the glob
     * @param text the text
     * @return whether the whole text matches
     */
    static boolean matches(String glob, String text) {
        int g = 0;
        int n = 0;
        int starG = -1;
        int starN = -1;
        while (n < text.length()) {
            if (g < glob.length() && (glob.charAt(g) == '?' || glob.charAt(g) == text.charAt(n))) {
                g++;
                n++;
            } else if (g < glob.length() && glob.charAt(g) == '*') {
                starG = g++;
                starN = n;
            } else if (starG >= 0) {
                g = starG + 1;
                n = ++starN;
            } else {
                return false;
            }
        }
        while (g < glob.length() && glob.charAt(g) == '*') {
            g++;
        }
        return g == glob.length();
    }
}
