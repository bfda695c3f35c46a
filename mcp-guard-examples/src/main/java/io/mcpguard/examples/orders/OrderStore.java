package io.mcpguard.examples.orders;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/** An in-memory store of customers, orders and refunds: the system the agents act on. Thread-safe. */
public final class OrderStore {

    /**
     * One order.
     *
     * @param id the order id
     * @param customerId the customer
     * @param total the order total in EUR
     * @param status the status
     * @param note the support note
     * @param refunded the amount refunded so far
     */
    public record Order(String id, String customerId, BigDecimal total, String status, String note,
            BigDecimal refunded) {
    }

    private final Map<String, Order> orders = new ConcurrentSkipListMap<>();
    private final Map<String, String> customers = new ConcurrentHashMap<>();

    /**
     * Creates a store with a few customers and orders.
     *
     * @return a seeded store
     */
    public static OrderStore seeded() {
        OrderStore store = new OrderStore();
        store.customers.put("c-17", "Ada Lovelace");
        store.customers.put("c-42", "Alan Turing");
        store.orders.put("o-1001", new Order("o-1001", "c-17", new BigDecimal("89.90"), "shipped", "", BigDecimal.ZERO));
        store.orders.put("o-1002", new Order("o-1002", "c-42", new BigDecimal("1240.00"), "delivered", "",
                BigDecimal.ZERO));
        store.orders.put("o-1003", new Order("o-1003", "c-42", new BigDecimal("15.50"), "open", "", BigDecimal.ZERO));
        return store;
    }

    /**
     * Finds an order.
     *
     * @param id the order id
     * @return the order, or empty
     */
    public Optional<Order> order(String id) {
        return Optional.ofNullable(orders.get(id));
    }

    /**
     * Lists orders, optionally of one status.
     *
     * @param status the status, or {@code null} for all
     * @return the orders, by id
     */
    public List<Order> orders(String status) {
        List<Order> out = new ArrayList<>();
        for (Order order : orders.values()) {
            if (status == null || status.equals(order.status())) {
                out.add(order);
            }
        }
        return out;
    }

    /**
     * Replaces an order's note (reversible: the old note is returned).
     *
     * @param id the order id
     * @param note the new note
     * @return the previous note
     */
    public String updateNote(String id, String note) {
        String[] previous = new String[1];
        Order updated = orders.computeIfPresent(id, (k, o) -> {
            previous[0] = o.note();
            return new Order(o.id(), o.customerId(), o.total(), o.status(), note, o.refunded());
        });
        if (updated == null) {
            throw new IllegalArgumentException("no order " + id);
        }
        return previous[0];
    }

    /**
     * Refunds money on an order (irreversible: the money leaves).
     *
     * @param id the order id
     * @param amount the amount in EUR
     * @return the order after the refund
     */
    public synchronized Order refund(String id, BigDecimal amount) {
        Order o = orders.get(id);
        if (o == null) {
            throw new IllegalArgumentException("no order " + id);
        }
        if (o.refunded().add(amount).compareTo(o.total()) > 0) {
            throw new IllegalArgumentException("refund exceeds the order total");
        }
        Order after = new Order(o.id(), o.customerId(), o.total(), o.status(), o.note(), o.refunded().add(amount));
        orders.put(id, after);
        return after;
    }

    /**
     * Deletes a customer and their orders (irreversible).
     *
     * @param customerId the customer
     * @return how many orders were deleted
     */
    public synchronized int deleteCustomer(String customerId) {
        if (customers.remove(customerId) == null) {
            throw new IllegalArgumentException("no customer " + customerId);
        }
        int before = orders.size();
        orders.values().removeIf(o -> o.customerId().equals(customerId));
        return before - orders.size();
    }
}
