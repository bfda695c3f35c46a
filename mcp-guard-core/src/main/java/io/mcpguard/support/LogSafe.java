package io.mcpguard.support;

/**
 * Makes agent-controlled text safe to put in a log line: every control character (C0, DEL, C1 including U+0085, and
 * the line and paragraph separators U+2028 and U+2029) becomes a visible {@code \\uXXXX} escape, so that no agent can
 * start a new line, forge a record or send terminal escape sequences through the guard's logs; and the text is cut
 * to a bounded length. Unstable API.
 */
public final class LogSafe {

    /** The longest text put in a log line, unless a caller asks for another bound. */
    public static final int DEFAULT_MAX = 200;

    private LogSafe() {
    }

    /**
     * Returns whether a character may not appear raw in a log line or a protocol field.
     *
     * @param c the character
     * @return {@code true} for C0 and C1 controls, DEL, U+2028 and U+2029
     */
    public static boolean isControl(char c) {
        return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029';
    }

    /**
     * Returns whether a text holds any character {@link #isControl} refuses.
     *
     * @param text the text, may be {@code null}
     * @return {@code true} if it does
     */
    public static boolean hasControl(CharSequence text) {
        if (text == null) {
            return false;
        }
        for (int i = 0, n = text.length(); i < n; i++) {
            if (isControl(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Returns the value's text, escaped and cut to {@value #DEFAULT_MAX} characters.
     *
     * @param value anything; {@code null} gives {@code "null"}
     * @return text safe for one log line
     */
    public static String text(Object value) {
        return text(value, DEFAULT_MAX);
    }

    /**
     * Returns the value's text, escaped and cut to at most {@code max} characters of the original (an ellipsis and
     * the original length mark a cut).
     *
     * @param value anything; {@code null} gives {@code "null"}
     * @param max the most original characters kept, at least 1
     * @return text safe for one log line
     */
    public static String text(Object value, int max) {
        String s = String.valueOf(value);
        int n = Math.min(s.length(), Math.max(1, max));
        StringBuilder out = null;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (isControl(c)) {
                if (out == null) {
                    out = new StringBuilder(n + 16).append(s, 0, i);
                }
                out.append(String.format("\\u%04X", (int) c));
            } else if (out != null) {
                out.append(c);
            }
        }
        if (out == null && n == s.length()) {
            return s;
        }
        if (out == null) {
            out = new StringBuilder(n + 24).append(s, 0, n);
        }
        if (n < s.length()) {
            out.append("...(").append(s.length()).append(" chars)");
        }
        return out.toString();
    }

    /**
     * Makes one serialized JSON value safe as one log line: the characters JSON may carry raw inside strings but a log
     * viewer may take as a line break or a terminal command (DEL, the C1 controls including U+0085, U+2028, U+2029)
     * become {@code \\uXXXX} escapes, which leaves the JSON value unchanged. (JSON already escapes C0 controls.)
     *
     * @param json a serialized JSON value
     * @return the same value, safe for one line
     */
    public static String jsonLine(String json) {
        StringBuilder out = null;
        for (int i = 0, n = json.length(); i < n; i++) {
            char c = json.charAt(i);
            if (isControl(c)) {
                if (out == null) {
                    out = new StringBuilder(n + 16).append(json, 0, i);
                }
                out.append(String.format("\\u%04X", (int) c));
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? json : out.toString();
    }

    /**
     * Returns a copy of a failure whose messages (its own, its causes' and suppressed ones') are escaped and bounded
     * as {@link #text} does, with the original stack frames, for logging a failure whose message may carry
     * agent-controlled text (a tool's exception quoting its arguments) without letting it start a log line.
     *
     * @param failure the failure, or {@code null}
     * @return the escaped copy, or {@code null}
     */
    public static Throwable throwable(Throwable failure) {
        return failure == null ? null : escaped(failure, 0);
    }

    private static Throwable escaped(Throwable failure, int depth) {
        String message = failure.getMessage();
        Escaped copy = new Escaped(failure.getClass().getName()
                + (message == null ? "" : ": " + text(message, 1000)));
        copy.setStackTrace(failure.getStackTrace());
        if (depth < 8) {
            Throwable cause = failure.getCause();
            if (cause != null && cause != failure) {
                copy.initCause(escaped(cause, depth + 1));
            }
            for (Throwable suppressed : failure.getSuppressed()) {
                copy.addSuppressed(escaped(suppressed, depth + 1));
            }
        }
        return copy;
    }

    /** A failure as logged: the original class and escaped message in one line, the original frames. */
    private static final class Escaped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Escaped(String summary) {
            super(summary);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }
}
