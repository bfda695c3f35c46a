package io.mcpguard.examples.orders;

import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.ToolAnnotations;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The order domain's MCP tools, as plain SDK tool specifications: two read-only lookups, a reversible update, an
 * irreversible refund and an irreversible delete. They know nothing about mcp-guard.
 */
public final class OrderTools {

    private OrderTools() {
    }

    /**
     * Thrown by the archive lookup, standing in for a failing back end whose message must never reach an agent.
     */
    static final class ArchiveUnavailableException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ArchiveUnavailableException(String message) {
            super(message);
        }
    }

    /**
     * Returns the tools over a store.
     *
     * @param store the store
     * @return the tool specifications
     */
    public static List<SyncToolSpecification> all(OrderStore store) {
        return List.of(getOrder(store), listOrders(store), updateOrderNote(store), issueRefund(store),
                deleteCustomer(store));
    }

    static SyncToolSpecification getOrder(OrderStore store) {
        var tool = McpSchema.Tool.builder().name("get_order").title("Get order")
                .description("Look up one order by id.")
                .inputSchema(schema(Map.of("orderId", Map.of("type", "string", "pattern", "^o-[0-9]+$")),
                        List.of("orderId")))
                .annotations(ToolAnnotations.builder().readOnlyHint(true).build())
                .build();
        return new SyncToolSpecification(tool, (exchange, request) -> {
            String id = (String) request.arguments().get("orderId");
            return store.order(id)
                    .map(o -> text(o.id() + ": " + o.status() + ", total " + o.total() + " EUR, refunded "
                            + o.refunded() + " EUR, customer " + o.customerId()))
                    .orElseGet(() -> error("No order " + id + "."));
        });
    }

    static SyncToolSpecification listOrders(OrderStore store) {
        var tool = McpSchema.Tool.builder().name("list_orders").title("List orders")
                .description("List orders, optionally by status (open, shipped, delivered, archived).")
                .inputSchema(schema(Map.of("status", Map.of("type", "string",
                        "enum", List.of("open", "shipped", "delivered", "archived"))), List.of()))
                .annotations(ToolAnnotations.builder().readOnlyHint(true).build())
                .build();
        return new SyncToolSpecification(tool, (exchange, request) -> {
            String status = (String) request.arguments().get("status");
            if ("archived".equals(status)) {
                throw new ArchiveUnavailableException(
                        "archive query timed out: jdbc:postgresql://archive-db.internal:5432/orders (user svc_orders)");
            }
            return text(store.orders(status).stream().map(OrderStore.Order::id).collect(Collectors.joining(", ")));
        });
    }

    static SyncToolSpecification updateOrderNote(OrderStore store) {
        var tool = McpSchema.Tool.builder().name("update_order_note").title("Update order note")
                .description("Replace the support note on an order. Reversible: the previous note is returned.")
                .inputSchema(schema(Map.of(
                        "orderId", Map.of("type", "string", "pattern", "^o-[0-9]+$"),
                        "note", Map.of("type", "string", "maxLength", 500)), List.of("orderId", "note")))
                .annotations(ToolAnnotations.builder().readOnlyHint(false).destructiveHint(false)
                        .idempotentHint(true).build())
                .build();
        return new SyncToolSpecification(tool, (exchange, request) -> {
            String previous = store.updateNote((String) request.arguments().get("orderId"),
                    (String) request.arguments().get("note"));
            return text("Note updated (previous note: '" + previous + "').");
        });
    }

    static SyncToolSpecification issueRefund(OrderStore store) {
        var tool = McpSchema.Tool.builder().name("issue_refund").title("Issue refund")
                .description("Refund money to the customer on an order. Irreversible.")
                .inputSchema(schema(Map.of(
                        "orderId", Map.of("type", "string", "pattern", "^o-[0-9]+$"),
                        "amount", Map.of("type", "number", "exclusiveMinimum", 0)), List.of("orderId", "amount")))
                .annotations(ToolAnnotations.builder().readOnlyHint(false).destructiveHint(true)
                        .idempotentHint(false).build())
                .build();
        return new SyncToolSpecification(tool, (exchange, request) -> {
            String id = (String) request.arguments().get("orderId");
            BigDecimal amount = new BigDecimal(request.arguments().get("amount").toString());
            try {
                var after = store.refund(id, amount);
                return text("Refunded " + amount + " EUR on " + id + " (refunded so far: " + after.refunded()
                        + " EUR).");
            } catch (IllegalArgumentException e) {
                return error("Refund refused: " + e.getMessage() + ".");
            }
        });
    }

    static SyncToolSpecification deleteCustomer(OrderStore store) {
        var tool = McpSchema.Tool.builder().name("delete_customer").title("Delete customer")
                .description("Delete a customer and all their orders. Irreversible.")
                .inputSchema(schema(Map.of("customerId", Map.of("type", "string", "pattern", "^c-[0-9]+$")),
                        List.of("customerId")))
                .annotations(ToolAnnotations.builder().readOnlyHint(false).destructiveHint(true).build())
                .build();
        return new SyncToolSpecification(tool, (exchange, request) -> {
            int deleted = store.deleteCustomer((String) request.arguments().get("customerId"));
            return text("Customer deleted with " + deleted + " orders.");
        });
    }

    private static Map<String, Object> schema(Map<String, Object> properties, List<String> required) {
        return Map.of("type", "object", "properties", properties, "required", required,
                "additionalProperties", false);
    }

    private static CallToolResult text(String text) {
        return CallToolResult.builder().content(List.of(new McpSchema.TextContent(text))).isError(false).build();
    }

    private static CallToolResult error(String text) {
        return CallToolResult.builder().content(List.of(new McpSchema.TextContent(text))).isError(true).build();
    }
}
