package io.mcpguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The versions users get from {@code mcp-guard-bom} are the ones the project is built and tested with: the BOM has no
 * parent (importing it must bring nothing else), so its pins are written twice and this test keeps them equal.
 */
class BomAlignmentTest {

    static String property(Path pom, String name) throws Exception {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</" + Pattern.quote(name) + ">")
                .matcher(Files.readString(pom));
        assertThat(m.find()).as(name + " in " + pom).isTrue();
        return m.group(1).trim();
    }

    @Test
    void bomPinsTheVersionsTheBuildUses() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        Path parent = root.resolve("pom.xml");
        Path bom = root.resolve("mcp-guard-bom/pom.xml");
        for (String name : List.of("mcp-sdk.version", "reactor.version", "jackson3.version")) {
            assertThat(property(bom, name)).as(name).isEqualTo(property(parent, name));
        }
        String projectVersion = property(parent, "version");
        assertThat(property(bom, "mcp-guard.version")).isEqualTo(projectVersion);
        assertThat(property(bom, "version")).isEqualTo(projectVersion);
        assertThat(property(bom, "mcp-sdk.version")).doesNotContain("-RC").doesNotContain("-M");
        assertThat(property(bom, "reactor.version")).doesNotContain("-RC").doesNotContain("-M");
    }
}
