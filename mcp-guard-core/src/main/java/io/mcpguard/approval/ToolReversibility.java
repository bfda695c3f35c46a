package io.mcpguard.approval;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares the reversibility of the tool a method implements. Read with {@link Reversibility#declaredOn} and applied
 * to the tool definition with {@link Reversibility#annotate}; the Spring integration applies it to {@code @McpTool}
 * methods.
 *
 * <pre>{@code
 * @ToolReversibility(Reversibility.IRREVERSIBLE)
 * CallToolResult issueRefund(String orderId, BigDecimal amount) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ToolReversibility {

    /**
     * The tool's reversibility.
     *
     * @return the classification
     */
    Reversibility value();
}
