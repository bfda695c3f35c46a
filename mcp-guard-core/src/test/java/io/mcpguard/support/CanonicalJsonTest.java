package io.mcpguard.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RFC 8785 canonical JSON: the RFC's own number vectors, its ordering and escaping rules, refusal of numbers a double
 * would round, and a cross-check of 20,000 random doubles against a real ECMAScript engine (Node).
 */
class CanonicalJsonTest {

    /** RFC 8785 Appendix B: IEEE 754 bit patterns and the text every JCS implementation must give. */
    @ParameterizedTest
    @CsvSource({
        "0000000000000000, 0",
        "8000000000000000, 0",
        "0000000000000001, 5e-324",
        "8000000000000001, -5e-324",
        "7fefffffffffffff, 1.7976931348623157e+308",
        "ffefffffffffffff, -1.7976931348623157e+308",
        "4340000000000000, 9007199254740992",
        "c340000000000000, -9007199254740992",
        "4430000000000000, 295147905179352830000",
        "44b52d02c7e14af5, 9.999999999999997e+22",
        "44b52d02c7e14af6, 1e+23",
        "44b52d02c7e14af7, 1.0000000000000001e+23",
        "444b1ae4d6e2ef4e, 999999999999999700000",
        "444b1ae4d6e2ef4f, 999999999999999900000",
        "444b1ae4d6e2ef50, 1e+21",
        "3eb0c6f7a0b5ed8c, 9.999999999999997e-7",
        "3eb0c6f7a0b5ed8d, 0.000001",
        "41b3de4355555553, 333333333.3333332",
        "41b3de4355555554, 333333333.33333325",
        "41b3de4355555555, 333333333.3333333",
        "41b3de4355555556, 333333333.3333334",
        "41b3de4355555557, 333333333.33333343",
        "becbf647612f3696, -0.0000033333333333333333",
        "43143ff3c1cb0959, 1424953923781206.2"
    })
    void numbersAreWrittenAsTheRfcVectorsSay(String bits, String expected) {
        double d = Double.longBitsToDouble(Long.parseUnsignedLong(bits, 16));
        assertThat(CanonicalJson.number(d)).isEqualTo(expected);
    }

    @Test
    void equalNumbersInDifferentSpellingsShareOneForm() {
        assertThat(CanonicalJson.number(100)).isEqualTo("100");
        assertThat(CanonicalJson.number(100.0)).isEqualTo("100");
        assertThat(CanonicalJson.number(new BigDecimal("1E+2"))).isEqualTo("100");
        assertThat(CanonicalJson.number(new BigDecimal("100.000"))).isEqualTo("100");
        assertThat(CanonicalJson.number(new BigDecimal("0.10"))).isEqualTo("0.1");
        assertThat(CanonicalJson.number(0.1)).isEqualTo("0.1");
        assertThat(CanonicalJson.number(1e21)).isEqualTo("1e+21");
        assertThat(CanonicalJson.number(1e20)).isEqualTo("100000000000000000000");
        assertThat(CanonicalJson.number(1e-7)).isEqualTo("1e-7");
        assertThat(CanonicalJson.number(-1.5f)).isEqualTo("-1.5");
        assertThat(CanonicalJson.number(new BigInteger("9007199254740992"))).isEqualTo("9007199254740992");
    }

    @Test
    void numbersADoubleWouldRoundAreRefusedNotMerged() {
        // 2^53 + 1 and 2^53 would otherwise share one canonical form, and so one approval digest.
        assertThatThrownBy(() -> CanonicalJson.number((1L << 53) + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2^53");
        assertThatThrownBy(() -> CanonicalJson.number(Long.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CanonicalJson.number(new BigInteger("123456789012345678901234567890")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CanonicalJson.number(new BigDecimal("0.1000000000000000000001")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RFC 8785");
        assertThatThrownBy(() -> CanonicalJson.number(new BigDecimal("1e400")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CanonicalJson.number(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CanonicalJson.number(Double.POSITIVE_INFINITY))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(CanonicalJson.number(1L << 53)).isEqualTo("9007199254740992");
        assertThat(CanonicalJson.number(-(1L << 53))).isEqualTo("-9007199254740992");
    }

    @Test
    void theExactFormKeepsNumbersADoubleCannotHoldApartForAuditHashes() {
        long beyond = (1L << 53) + 1;
        assertThat(CanonicalJson.ofExact(Map.of("n", beyond))).isEqualTo("{\"n\":9007199254740993}");
        assertThat(CanonicalJson.ofExact(Map.of("n", 1L << 53))).isEqualTo("{\"n\":9007199254740992}");
        assertThat(CanonicalJson.ofExact(List.of(new BigDecimal("0.10000000000000000000010"), 1e21)))
                .isEqualTo("[0.1000000000000000000001,1e+21]");
        assertThatThrownBy(() -> CanonicalJson.ofExact(List.of(Double.NaN)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CanonicalJson.of(Map.of("n", beyond))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void membersAreSortedByUtf16CodeUnitsAndStringsEscapedTheRfcWay() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("\u20ac", "Euro Sign");
        value.put("\r", "Carriage Return");
        value.put("\ufb33", "Hebrew Letter Dalet With Dagesh");
        value.put("1", "One");
        value.put("\ud83d\ude00", "Emoji: Grinning Face");
        value.put("\u0080", "Control");
        value.put("\u00f6", "Latin Small Letter O With Diaeresis");
        // RFC 8785 section 3.2.3's example: code-unit order puts the emoji's surrogate pair before U+FB33.
        assertThat(CanonicalJson.of(value)).isEqualTo("{\"\\r\":\"Carriage Return\",\"1\":\"One\","
                + "\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\","
                + "\"\u20ac\":\"Euro Sign\",\"\ud83d\ude00\":\"Emoji: Grinning Face\","
                + "\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}");
        assertThat(CanonicalJson.of(List.of("\u0000\u001f\"\\/\b\f\n\t\u007f")))
                .isEqualTo("[\"\\u0000\\u001f\\\"\\\\/\\b\\f\\n\\t\u007f\"]");
        assertThat(CanonicalJson.of(Map.of("b", List.of(1, true, Map.of()), "a", "x")))
                .isEqualTo("{\"a\":\"x\",\"b\":[1,true,{}]}");
    }

    @Test
    void nestingBeyondTheLimitAndNonJsonValuesAreRefused() {
        Object deep = "x";
        for (int i = 0; i <= CanonicalJson.MAX_DEPTH; i++) {
            deep = List.of(deep);
        }
        Object tooDeep = deep;
        assertThatThrownBy(() -> CanonicalJson.of(tooDeep)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("deeper");
        Object limit = "x";
        for (int i = 0; i < CanonicalJson.MAX_DEPTH; i++) {
            limit = List.of(limit);
        }
        assertThat(CanonicalJson.of(limit)).startsWith("[[[").endsWith("\"x\"" + "]".repeat(CanonicalJson.MAX_DEPTH));
        assertThatThrownBy(() -> CanonicalJson.of(new Object())).isInstanceOf(IllegalArgumentException.class);
    }

    /** A real ECMAScript engine is the reference: Node's {@code String(number)} for random bit patterns. */
    @Test
    void randomDoublesMatchNode() throws Exception {
        SplittableRandom random = new SplittableRandom(8785);
        List<Double> values = new ArrayList<>();
        while (values.size() < 20_000) {
            double d = Double.longBitsToDouble(random.nextLong());
            if (Double.isFinite(d)) {
                values.add(d);
            }
        }
        for (int i = 0; i < 2_000; i++) {
            values.add(random.nextInt(-1_000_000, 1_000_000) / 100.0);
        }
        Process node = new ProcessBuilder("node", "-e",
                "const rl=require('readline').createInterface({input:process.stdin});"
                        + "const out=[];rl.on('line',l=>{const b=Buffer.alloc(8);b.writeBigUInt64BE(BigInt.asUintN(64,"
                        + "BigInt(l)));out.push(String(b.readDoubleBE(0)));});"
                        + "rl.on('close',()=>process.stdout.write(out.join('\\n')+'\\n'));")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (var in = new BufferedWriter(new OutputStreamWriter(node.getOutputStream(), StandardCharsets.UTF_8))) {
            for (double d : values) {
                in.write(Long.toString(Double.doubleToRawLongBits(d)));
                in.write('\n');
            }
        }
        String[] expected = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n");
        assertThat(node.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(expected).hasSize(values.size());
        for (int i = 0; i < values.size(); i++) {
            assertThat(CanonicalJson.number(values.get(i))).as("bits %x", Double.doubleToRawLongBits(values.get(i)))
                    .isEqualTo(expected[i]);
        }
    }
}
