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
 * The JSON Canonicalization Scheme (RFC 8785) of a JSON value as the SDK parses it, and its SHA-256: object members
 * sorted by the UTF-16 code units of their names, no white space, strings escaped the RFC's way, numbers serialized as
 * ECMAScript does for IEEE 754 doubles ({@code 100}, {@code 100.0} and {@code 1E+2} are all {@code 100};
 * {@code 1e21} is {@code 1e+21}; {@code 0.000001} is {@code 0.000001} and {@code 1e-7} is {@code 1e-7}). Equal values
 * give equal text; approvals and audit records bind to the hash.
 *
 * <p>RFC 8785 numbers are doubles. A number a double cannot hold exactly (an integer beyond 2^53, a {@code BigDecimal}
 * with more precision than a double) is refused with {@link IllegalArgumentException} rather than rounded, so that two
 * different values can never share a canonical form. Unstable API.
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
        write(value, out, 0, false);
        return out.toString();
    }

    /**
     * Returns the canonical text as {@link #of} does, except that a number a double cannot hold exactly is written as
     * its exact decimal ({@code 9007199254740993}, {@code 0.1000000000000000000001}) instead of being refused. Outside
     * RFC 8785, but still one text per value: for audit hashes and span attributes, which must record every call,
     * including one whose arguments an approval could not be bound to.
     *
     * @param value a JSON value as the SDK parses it
     * @return the canonical JSON text
     * @throws IllegalArgumentException for values JSON cannot hold, or nesting deeper than {@link #MAX_DEPTH}
     */
    public static String ofExact(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out, 0, true);
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
            write(entry.getValue(), out, 1, true);
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
        MessageDigest digest = SHA256.get();
        digest.reset();
        return HEX.formatHex(digest.digest(canonical.getBytes(StandardCharsets.UTF_8)));
    }

    private static final HexFormat HEX = HexFormat.of();

    /** One digest per thread: looking one up per call costs more than hashing a call's arguments. */
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    });

    private static void write(Object value, StringBuilder out, int depth, boolean exact) {
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
            out.append(exact ? exactNumber(n) : number(n));
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
                write(entry.getValue(), out, depth + 1, exact);
            }
            out.append('}');
        } else if (value instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                write(list.get(i), out, depth + 1, exact);
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    /** The largest integer every smaller integer of which a double holds exactly. */
    private static final long MAX_EXACT = 1L << 53;

    /**
     * Returns the RFC 8785 (ECMAScript) text of a number.
     *
     * @param n the number
     * @return e.g. {@code 100}, {@code 0.5}, {@code -3}, {@code 1e+21}
     * @throws IllegalArgumentException for NaN, infinities, and numbers a double cannot hold exactly
     */
    public static String number(Number n) {
        return ecmascript(exactDouble(n));
    }

    private static String exactNumber(Number n) {
        try {
            return number(n);
        } catch (IllegalArgumentException e) {
            BigDecimal d = decimal(n);
            if (d == null) {
                throw e;
            }
            return d.stripTrailingZeros().toPlainString();
        }
    }

    /** The double a JSON number stands for, refusing values a double would round. */
    private static double exactDouble(Number n) {
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException("not a finite number: " + n);
            }
            return d;
        }
        if (n instanceof BigDecimal || n instanceof BigInteger) {
            BigDecimal exact = decimal(n);
            double d = exact.doubleValue();
            if (!Double.isFinite(d) || new BigDecimal(d).compareTo(exact) != 0 && !roundTrips(exact, d)) {
                throw new IllegalArgumentException("number " + exact.toPlainString()
                        + " cannot be represented exactly as an IEEE 754 double (RFC 8785)");
            }
            return d;
        }
        long v = n.longValue();
        if (v > MAX_EXACT || v < -MAX_EXACT) {
            throw new IllegalArgumentException("integer " + v + " is beyond 2^53 and cannot be represented exactly "
                    + "as an IEEE 754 double (RFC 8785)");
        }
        return v;
    }

    /** A decimal such as 0.1 stands for the double nearest it when its shortest double text is itself. */
    private static boolean roundTrips(BigDecimal exact, double d) {
        String[] parts = shortest(Math.abs(d));
        BigDecimal text = new BigDecimal(parts[0] + "E" + (Integer.parseInt(parts[1]) - parts[0].length()));
        return (d < 0 ? text.negate() : text).compareTo(exact) == 0;
    }

    /**
     * ECMAScript's Number::toString (ECMA-262 7.1.12.1), as RFC 8785 requires.
     *
     * @param d a finite double
     * @return its text
     */
    static String ecmascript(double d) {
        if (d == 0) {
            return "0"; // also -0
        }
        StringBuilder out = new StringBuilder();
        if (d < 0) {
            out.append('-');
            d = -d;
        }
        String[] parts = shortest(d);
        String digits = parts[0];
        int k = digits.length();
        int n = Integer.parseInt(parts[1]);
        if (k <= n && n <= 21) {
            out.append(digits);
            out.append("0".repeat(n - k));
        } else if (0 < n && n <= 21) {
            out.append(digits, 0, n).append('.').append(digits, n, k);
        } else if (-6 < n && n <= 0) {
            out.append("0.").append("0".repeat(-n)).append(digits);
        } else {
            out.append(digits.charAt(0));
            if (k > 1) {
                out.append('.').append(digits, 1, k);
            }
            int e = n - 1;
            out.append('e').append(e < 0 ? '-' : '+').append(Math.abs(e));
        }
        return out.toString();
    }

    /**
     * The shortest decimal digits that round-trip to the double, and the exponent {@code n} such that the value is
     * {@code 0.DIGITS x 10^n}.
     */
    private static String[] shortest(double d) {
        for (int precision = 1; precision <= 17; precision++) {
            BigDecimal rounded = new BigDecimal(d).round(new java.math.MathContext(precision,
                    java.math.RoundingMode.HALF_EVEN));
            if (rounded.doubleValue() == d) {
                BigDecimal stripped = rounded.stripTrailingZeros();
                String digits = stripped.unscaledValue().abs().toString();
                int n = digits.length() - stripped.scale();
                return new String[] {digits, Integer.toString(n)};
            }
        }
        throw new IllegalStateException("no round-trip representation of " + d);
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
                        out.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15,
                                16));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
