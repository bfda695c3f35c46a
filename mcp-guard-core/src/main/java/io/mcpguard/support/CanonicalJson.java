package io.mcpguard.support;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A canonical JSON text of tool arguments and its SHA-256: object keys sorted, no white space, numbers in their
 * shortest plain decimal form ({@code 100}, {@code 100.0} and {@code 1E+2} are all {@code 100}), strings escaped the
 * same way every time. Equal arguments give equal text; an approval binds to the hash. Unstable API.
 */
public final class CanonicalJson {

    /** The deepest nesting accepted; deeper arguments are refused rather than walked. */
    public static final int MAX_DEPTH = 64;

    private CanonicalJson() {
    }

    /**
     * Returns the canonical text.
     *
     * @param value a JSON value as the SDK parses it (maps, lists, strings, numbers, booleans, null)
     * @return the canonical JSON text
     * @throws IllegalArgumentException for values JSON cannot hold, or nesting deeper than {@link #MAX_DEPTH}
     */
    public static String of(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out, 0);
        return out.toString();
    }

    /**
     * Returns JSON for a map whose top-level keys keep their insertion order (values are canonical). For readable
     * records; hash {@link #of} instead.
     *
     * @param fields the fields, in the order to write them
     * @return JSON text
     */
    public static String ofOrdered(Map<String, Object> fields) {
        StringBuilder out = new StringBuilder("{");
        boolean first = true;
        for (var entry : fields.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            string(entry.getKey(), out);
            out.append(':');
            write(entry.getValue(), out, 1);
        }
        return out.append('}').toString();
    }

    /**
     * Returns the SHA-256 of the canonical text, as 64 lower-case hex digits.
     *
     * @param canonical the canonical text
     * @return the hash
     */
    public static String sha256(String canonical) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(canonical.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    private static void write(Object value, StringBuilder out, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("arguments nest deeper than " + MAX_DEPTH + " levels");
        }
        if (value == null) {
            out.append("null");
        } else if (value instanceof String s) {
            string(s, out);
        } else if (value instanceof Boolean b) {
            out.append(b.booleanValue());
        } else if (value instanceof Number n) {
            out.append(number(n));
        } else if (value instanceof Map<?, ?> map) {
            TreeMap<String, Object> sorted = new TreeMap<>();
            for (var entry : map.entrySet()) {
                sorted.put(String.valueOf(entry.getKey()), entry.getValue());
            }
            out.append('{');
            boolean first = true;
            for (var entry : sorted.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                string(entry.getKey(), out);
                out.append(':');
                write(entry.getValue(), out, depth + 1);
            }
            out.append('}');
        } else if (value instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                write(list.get(i), out, depth + 1);
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    /**
     * Returns the canonical decimal text of a number.
     *
     * @param n the number
     * @return e.g. {@code 100}, {@code 0.5}, {@code -3}
     */
    public static String number(Number n) {
        BigDecimal decimal = decimal(n);
        if (decimal == null) {
            throw new IllegalArgumentException("not a finite number: " + n);
        }
        if (decimal.signum() == 0) {
            return "0";
        }
        return decimal.stripTrailingZeros().toPlainString();
    }

    /**
     * Converts a JSON number to a {@link BigDecimal}.
     *
     * @param n the number
     * @return its exact decimal value, or {@code null} for NaN and infinities
     */
    public static BigDecimal decimal(Number n) {
        if (n instanceof BigDecimal d) {
            return d;
        }
        if (n instanceof BigInteger i) {
            return new BigDecimal(i);
        }
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            return Double.isFinite(d) ? new BigDecimal(Double.toString(d)) : null;
        }
        return BigDecimal.valueOf(n.longValue());
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
