package io.mcpguard.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mcpguard.testing.MutableClock;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The in-memory limit store: all or nothing across keys, exact under contention, refunds, idle keys expire. */
class InMemoryLimitStoreTest {

    final MutableClock clock = MutableClock.start();
    final InMemoryLimitStore store = InMemoryLimitStore.withClock(clock);

    static LimitStore.Charge rate(String id, int limit, Duration window) {
        return LimitStore.Charge.call(new LimitStore.Key("rate", id), new LimitStore.Rate(limit, window));
    }

    static LimitStore.Charge sum(String id, long amount, long limit, Duration window) {
        return new LimitStore.Charge(new LimitStore.Key("sum", id), new LimitStore.Sum(BigDecimal.valueOf(limit),
                window), BigDecimal.valueOf(amount));
    }

    @Test
    void anAcquisitionRecordsEveryChargeOrNone() {
        assertThat(store.tryAcquire(List.of(sum("a", 80, 100, Duration.ofHours(1)))).granted()).isTrue();

        LimitStore.Result refused = store.tryAcquire(List.of(rate("r", 10, Duration.ofMinutes(1)),
                sum("a", 30, 100, Duration.ofHours(1)), sum("b", 30, 100, Duration.ofHours(1))));

        assertThat(refused.granted()).isFalse();
        assertThat(refused.refused()).isEqualTo(1);
        assertThat(store.used(new LimitStore.Key("sum", "b"), new LimitStore.Sum(BigDecimal.TEN, Duration.ofHours(1))))
                .as("nothing of the refused acquisition was recorded").isEqualByComparingTo("0");
        assertThat(store.used(new LimitStore.Key("rate", "r"), new LimitStore.Rate(10, Duration.ofMinutes(1))))
                .isEqualByComparingTo("0");
        assertThat(store.tryAcquire(List.of(sum("a", 20, 100, Duration.ofHours(1)))).granted())
                .as("exactly at the limit").isTrue();
    }

    @Test
    void ratesAreGcraWithARetryHintAndWhatRemains() {
        LimitStore.Result first = store.tryAcquire(List.of(rate("r", 3, Duration.ofSeconds(3))));
        assertThat(first.remaining()).isEqualTo(2);
        store.tryAcquire(List.of(rate("r", 3, Duration.ofSeconds(3))));
        assertThat(store.tryAcquire(List.of(rate("r", 3, Duration.ofSeconds(3)))).remaining()).isZero();
        LimitStore.Result refused = store.tryAcquire(List.of(rate("r", 3, Duration.ofSeconds(3))));
        assertThat(refused.granted()).isFalse();
        assertThat(refused.retryAfter()).isEqualTo(Duration.ofSeconds(1));
        clock.advance(Duration.ofSeconds(1));
        assertThat(store.tryAcquire(List.of(rate("r", 3, Duration.ofSeconds(3)))).granted()).isTrue();
    }

    @Test
    void aRefundUndoesOneAcquisitionAndForceRecordsPastTheLimit() {
        LimitStore.Result taken = store.tryAcquire(List.of(rate("r", 1, Duration.ofMinutes(1)),
                sum("a", 100, 100, Duration.ofHours(1))));
        assertThat(store.tryAcquire(List.of(rate("r", 1, Duration.ofMinutes(1)))).granted()).isFalse();

        store.refund(taken.receipt());

        assertThat(store.tryAcquire(List.of(rate("r", 1, Duration.ofMinutes(1)))).granted()).isTrue();
        assertThat(store.used(new LimitStore.Key("sum", "a"), new LimitStore.Sum(BigDecimal.ONE, Duration.ofHours(1))))
                .isEqualByComparingTo("0");
        store.force(List.of(sum("a", 500, 100, Duration.ofHours(1))));
        assertThat(store.used(new LimitStore.Key("sum", "a"), new LimitStore.Sum(BigDecimal.ONE, Duration.ofHours(1))))
                .isEqualByComparingTo("500");
        assertThat(store.tryAcquire(List.of(sum("a", 0, 100, Duration.ofHours(1)))).granted())
                .as("a forced overrun is seen by later calls").isFalse();
    }

    @Test
    void sumsSlideOutOfTheirWindowAndIdleKeysExpire() {
        store.tryAcquire(List.of(sum("a", 100, 100, Duration.ofHours(1)), rate("r", 5, Duration.ofMinutes(1))));
        assertThat(store.size()).isEqualTo(2);
        assertThat(store.sweep()).as("nothing is idle yet").isZero();

        clock.advance(Duration.ofMinutes(1));
        assertThat(store.sweep()).as("the rate bucket is full again").isEqualTo(1);
        assertThat(store.tryAcquire(List.of(sum("a", 1, 100, Duration.ofHours(1)))).granted()).isFalse();

        clock.advance(Duration.ofMinutes(61).plusSeconds(57));
        assertThat(store.tryAcquire(List.of(sum("a", 100, 100, Duration.ofHours(1)))).granted())
                .as("the first charge left the window").isTrue();
        clock.advance(Duration.ofHours(2));
        assertThat(store.sweep()).isEqualTo(1);
        assertThat(store.size()).isZero();
    }

    @Test
    void aChargeNeverLeavesItsWindowEarly() {
        // A slot that only partly overlaps the window still counts: the ring must not reuse it for the current slot.
        Duration window = Duration.ofSeconds(64);
        clock.advance(Duration.ofMillis(900));
        assertThat(store.tryAcquire(List.of(sum("a", 200, 250, window))).granted()).isTrue();
        clock.advance(Duration.ofMillis(63_100));
        assertThat(store.tryAcquire(List.of(sum("a", 50, 250, window))).granted()).isTrue();
        clock.advance(Duration.ofMillis(100));
        assertThat(store.tryAcquire(List.of(sum("a", 200, 250, window))).granted())
                .as("250 were charged within the last 64 s").isFalse();
        List<Long> granted = new ArrayList<>();
        for (int step = 0; step < 500; step++) {
            clock.advance(Duration.ofMillis(377));
            long now = clock.millis();
            if (store.tryAcquire(List.of(sum("b", 1, 40, window))).granted()) {
                granted.add(now);
            }
            long inWindow = granted.stream().filter(at -> at > now - window.toMillis()).count();
            assertThat(inWindow).as("never more than the limit in any window").isLessThanOrEqualTo(40);
            assertThat(store.used(new LimitStore.Key("sum", "b"), new LimitStore.Sum(BigDecimal.ONE, window)))
                    .as("every charge of the last window still counts").isGreaterThanOrEqualTo(
                            BigDecimal.valueOf(inWindow));
        }
    }

    @Test
    void concurrentAcquisitionsOverSharedKeysNeverPassTheLimit() throws Exception {
        AtomicInteger granted = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            String other = t % 2 == 0 ? "x" : "y";
            workers.add(CompletableFuture.runAsync(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                for (int i = 0; i < 200; i++) {
                    // Keys in both orders across threads: ordered locking must not deadlock.
                    List<LimitStore.Charge> charges = other.equals("x")
                            ? List.of(sum("shared", 1, 500, Duration.ofHours(1)), sum(other, 1, 10_000, Duration.ofHours(1)))
                            : List.of(sum(other, 1, 10_000, Duration.ofHours(1)), sum("shared", 1, 500, Duration.ofHours(1)));
                    if (store.tryAcquire(charges).granted()) {
                        granted.incrementAndGet();
                    }
                }
            }));
        }
        go.countDown();
        CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertThat(granted).hasValue(500);
    }

    @Test
    void chargesAreChecked() {
        assertThatThrownBy(() -> new LimitStore.Rate(0, Duration.ofSeconds(1))).isInstanceOf(
                IllegalArgumentException.class);
        assertThatThrownBy(() -> new LimitStore.Sum(BigDecimal.ONE, Duration.ZERO)).isInstanceOf(
                IllegalArgumentException.class);
        assertThatThrownBy(() -> new LimitStore.Charge(new LimitStore.Key("s", "k"),
                new LimitStore.Sum(BigDecimal.ONE, Duration.ofSeconds(1)), BigDecimal.valueOf(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        store.tryAcquire(List.of(sum("k", 1, 5, Duration.ofHours(1))));
        assertThatThrownBy(() -> store.tryAcquire(List.of(LimitStore.Charge.call(new LimitStore.Key("sum", "k"),
                new LimitStore.Rate(1, Duration.ofSeconds(1)))))).isInstanceOf(IllegalStateException.class);
    }
}
