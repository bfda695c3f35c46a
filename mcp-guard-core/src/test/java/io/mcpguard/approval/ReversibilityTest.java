package io.mcpguard.approval;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.Policy;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.policy.ToolMatcher;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.ToolAnnotations;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReversibilityTest {

    static McpSchema.Tool tool(ToolAnnotations annotations) {
        return McpSchema.Tool.builder().name("t").inputSchema(Map.of("type", "object")).annotations(annotations)
                .build();
    }

    @Test
    void derivedFromMcpAnnotationsWithTheSpecificationDefaults() {
        assertThat(Reversibility.of(tool(null))).isEqualTo(Reversibility.IRREVERSIBLE);
        assertThat(Reversibility.of(tool(ToolAnnotations.builder().build()))).isEqualTo(Reversibility.IRREVERSIBLE);
        assertThat(Reversibility.of(tool(ToolAnnotations.builder().readOnlyHint(true).build())))
                .isEqualTo(Reversibility.READ_ONLY);
        assertThat(Reversibility.of(tool(ToolAnnotations.builder().readOnlyHint(false).build())))
                .as("destructiveHint defaults to true").isEqualTo(Reversibility.IRREVERSIBLE);
        assertThat(Reversibility.of(tool(ToolAnnotations.builder().destructiveHint(false).build())))
                .isEqualTo(Reversibility.REVERSIBLE);
        assertThat(Reversibility.of(tool(ToolAnnotations.builder().readOnlyHint(true).destructiveHint(true).build())))
                .isEqualTo(Reversibility.READ_ONLY);
    }

    @Test
    void annotatingMarksTheToolAndMakesItsMcpAnnotationsConsistent() {
        var original = McpSchema.Tool.builder().name("update_note").description("d")
                .inputSchema(Map.of("type", "object"))
                .annotations(ToolAnnotations.builder().title("Update").readOnlyHint(true).openWorldHint(false).build())
                .meta(Map.of("x", 1)).build();

        var reversible = Reversibility.REVERSIBLE.annotate(original);

        assertThat(reversible.meta()).containsEntry(Reversibility.META_KEY, "reversible").containsEntry("x", 1);
        assertThat(reversible.annotations().readOnlyHint()).isFalse();
        assertThat(reversible.annotations().destructiveHint()).isFalse();
        assertThat(reversible.annotations().title()).isEqualTo("Update");
        assertThat(reversible.annotations().openWorldHint()).isFalse();
        assertThat(Reversibility.of(reversible)).isEqualTo(Reversibility.REVERSIBLE);
        var irreversible = Reversibility.IRREVERSIBLE.annotate(original);
        assertThat(irreversible.annotations().destructiveHint()).isTrue();
        assertThat(Reversibility.READ_ONLY.annotate(original).annotations().idempotentHint()).isTrue();
    }

    @ToolReversibility(Reversibility.IRREVERSIBLE)
    void issueRefund() {
    }

    void getOrder() {
    }

    @Test
    void theJavaAnnotationIsReadFromToolMethods() throws Exception {
        assertThat(Reversibility.declaredOn(getClass().getDeclaredMethod("issueRefund")))
                .contains(Reversibility.IRREVERSIBLE);
        assertThat(Reversibility.declaredOn(getClass().getDeclaredMethod("getOrder"))).isEmpty();
    }

    @Test
    void thePolicyOverridesWhatAToolClaimsAndTheOverrideEntersTheFingerprint() {
        Policy trusting = Policy.builder().scope("s", ToolMatcher.all()).build();
        Policy overriding = Policy.builder().scope("s", ToolMatcher.all())
                .reversibility(ToolMatcher.names("t"), Reversibility.IRREVERSIBLE).build();

        assertThat(overriding.reversibilityOverrides()).singleElement()
                .extracting(Policy.ReversibilityOverride::reversibility).isEqualTo(Reversibility.IRREVERSIBLE);
        assertThat(overriding.canonicalForm()).contains("1. reversibility irreversible tools=names(t)");
        assertThat(overriding.fingerprint()).isNotEqualTo(trusting.fingerprint());
    }

    @Test
    void canonicalArgumentsIgnoreKeyOrderAndNumberSpellingButNothingElse() {
        String a = CanonicalJson.of(Map.of("b", List.of(1, 2.50, "x\"y"), "a", Map.of("z", true, "y", 100)));
        String b = CanonicalJson.of(new java.util.TreeMap<>(Map.of("a", Map.of("y", new BigDecimal("1E+2"), "z", true),
                "b", List.of(1.0, new BigDecimal("2.5"), "x\"y"))));

        assertThat(a).isEqualTo(b).isEqualTo("{\"a\":{\"y\":100,\"z\":true},\"b\":[1,2.5,\"x\\\"y\"]}");
        assertThat(CanonicalJson.sha256(a)).isEqualTo(CanonicalJson.sha256(b));
        assertThat(CanonicalJson.of(Map.of("amount", "100"))).isNotEqualTo(CanonicalJson.of(Map.of("amount", 100)));
        assertThat(CanonicalJson.of(List.of(1, 2))).isNotEqualTo(CanonicalJson.of(List.of(2, 1)));
    }
}
