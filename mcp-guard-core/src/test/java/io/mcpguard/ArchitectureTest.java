package io.mcpguard;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The dependency directions docs/architecture.md states: transport -> pipeline -> steps -> stores and sinks. */
class ArchitectureTest {

    static JavaClasses classes;

    static final String[] CONCERNS = {"identity", "policy", "quota", "breaker", "approval", "telemetry", "audit"};

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.mcpguard");
    }

    @Test
    void theStepsNeverReachUpIntoThePipelineTheSdkAdaptersOrTheTransportGate() {
        for (String concern : CONCERNS) {
            noClasses().that().resideInAPackage("io.mcpguard." + concern + "..")
                    .should().dependOnClassesThat()
                    .resideInAnyPackage("io.mcpguard.pipeline..", "io.mcpguard.sdk..", "io.mcpguard.transport..")
                    .because("data flows down: transport -> pipeline -> steps -> stores and sinks")
                    .check(classes);
        }
    }

    @Test
    void thePipelineKnowsNeitherTheSdkShapesNorTheTransport() {
        noClasses().that().resideInAPackage("io.mcpguard.pipeline..")
                .should().dependOnClassesThat().resideInAnyPackage("io.mcpguard.sdk..", "io.mcpguard.transport..")
                .check(classes);
        noClasses().that().resideInAPackage("io.mcpguard.pipeline..")
                .should().dependOnClassesThat().resideInAnyPackage("jakarta.servlet..")
                .check(classes);
    }

    @Test
    void theSdkAdaptersAndTheTransportGateAreIndependentOfEachOther() {
        noClasses().that().resideInAPackage("io.mcpguard.sdk..")
                .should().dependOnClassesThat().resideInAPackage("io.mcpguard.transport..").check(classes);
        noClasses().that().resideInAPackage("io.mcpguard.transport..")
                .should().dependOnClassesThat().resideInAPackage("io.mcpguard.sdk..").check(classes);
    }

    @Test
    void aConcernsImplementationIsUsedOnlyByItsConcernThePipelineAndTheWiring() {
        for (String concern : List.of("quota", "breaker", "approval", "telemetry", "audit")) {
            noClasses().that().resideOutsideOfPackages("io.mcpguard." + concern + "..", "io.mcpguard.pipeline..",
                            "io.mcpguard.sdk..")
                    .and().doNotHaveFullyQualifiedName(McpGuard.class.getName())
                    .should().dependOnClassesThat().resideInAPackage("io.mcpguard." + concern + ".internal..")
                    .because("a concern keeps its implementation beside its configuration")
                    .check(classes);
        }
    }

    @Test
    void supportHelpersDependOnNoGuardPackage() {
        noClasses().that().resideInAPackage("io.mcpguard.support..")
                .should().dependOnClassesThat().resideInAnyPackage("io.mcpguard", "io.mcpguard.identity..",
                        "io.mcpguard.policy..", "io.mcpguard.quota..", "io.mcpguard.breaker..",
                        "io.mcpguard.approval..", "io.mcpguard.telemetry..", "io.mcpguard.audit..",
                        "io.mcpguard.pipeline..", "io.mcpguard.sdk..", "io.mcpguard.transport..")
                .check(classes);
    }

    @Test
    void thereIsNoCatchAllInternalPackage() {
        noClasses().should().resideInAPackage("io.mcpguard.internal..").allowEmptyShould(true).check(classes);
    }
}
