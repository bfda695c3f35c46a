package io.mcpguard.adversarial;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.ProbeLimit;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.MutableClock;
import io.mcpguard.testing.RawMcpHttp;
import io.mcpguard.testing.Served;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A flood of calls to names the agent may not see, over real HTTP: past the limit they are refused alike for hidden
 * and missing names, and the audit trail records the first ones one by one and the rest as one aggregate per window,
 * so that it stays complete in meaning without growing with the prober's rate.
 */
class ProbeFloodHttpTest {

    static final String KEY = "sk-prober-0123456789abcdef";
    static final String OTHER_KEY = "sk-other-0123456789abcdef0";
    static final ApiKeyAuthenticator KEYS = ApiKeyAuthenticator.builder()
            .key("k1", KEY, AgentIdentity.builder("prober").scopes("public").build())
            .key("k2", OTHER_KEY, AgentIdentity.builder("other").scopes("public").build()).build();

    final MutableClock clock = MutableClock.start();
    final BlockingQueue<AuditRecord> audit = new LinkedBlockingQueue<>();
    GatedHttp http;
    McpGuard guard;

    @BeforeEach
    void start() throws Exception {
        guard = McpGuard.builder().clock(clock).stateSweepInterval(null).audit(audit::add)
                .policy(Policy.builder().scope("public", ToolMatcher.names("get_order"))
                        .probes(ProbeLimit.perAgent(50, Duration.ofMinutes(1)).recordFirst(5)).build())
                .build();
        http = GatedHttp.streamable(guard, KEYS, Served.of().echo("get_order", "delete_customer"));
    }

    @AfterEach
    void stop() throws Exception {
        http.close();
    }

    static String call(int id, String name) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + name
                + "\",\"arguments\":{\"id\":\"o-1\"}}}";
    }

    List<AuditRecord> drain() throws InterruptedException {
        List<AuditRecord> out = new ArrayList<>();
        AuditRecord r;
        while ((r = audit.poll(300, TimeUnit.MILLISECONDS)) != null) {
            out.add(r);
        }
        return out;
    }

    @Test
    void pastTheLimitProbesAreRefusedAlikeAndTheTrailAggregatesThem() throws Exception {
        RawMcpHttp prober = http.raw(KEY);
        prober.initialize();
        RawMcpHttp other = http.raw(OTHER_KEY);
        other.initialize();
        drain();

        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            // hidden and missing names in turn: the limit must not tell them apart
            HttpResponse<String> answer = prober.post(call(i, i % 2 == 0 ? "delete_customer" : "drop_" + i));
            statuses.add(answer.statusCode());
        }
        assertThat(statuses.subList(0, 50)).containsOnly(200);
        assertThat(statuses.subList(50, 60)).containsOnly(429);
        HttpResponse<String> hiddenRefused = prober.post(call(98, "delete_customer"));
        HttpResponse<String> missingRefused = prober.post(call(98, "drop_tables"));
        assertThat(hiddenRefused.body()).isEqualTo(missingRefused.body());
        assertThat(hiddenRefused.headers().firstValue("Retry-After")).isEqualTo(
                missingRefused.headers().firstValue("Retry-After")).hasValue("60");

        assertThat(RawMcpHttp.message(prober.post(call(99, "get_order")))).as("granted tools are not probes")
                .contains("get_order:o-1");
        assertThat(other.post(call(100, "delete_customer")).statusCode()).as("another agent has its own count")
                .isEqualTo(200);

        List<AuditRecord> first = drain();
        assertThat(first.stream().filter(r -> r instanceof AuditRecord.CallDecided d && "prober".equals(
                r.context().agentId()) && "deny".equals(d.decision())).count())
                .as("the first five probes are recorded one by one").isEqualTo(5);
        assertThat(first).noneMatch(r -> r instanceof AuditRecord.ProbesAggregated);

        clock.advance(Duration.ofMinutes(1));
        guard.sweep();
        List<AuditRecord> later = drain();
        List<AuditRecord.ProbesAggregated> aggregates = later.stream()
                .filter(r -> r instanceof AuditRecord.ProbesAggregated).map(r -> (AuditRecord.ProbesAggregated) r)
                .toList();
        assertThat(aggregates).hasSize(1);
        AuditRecord.ProbesAggregated aggregate = aggregates.get(0);
        assertThat(aggregate.context().agentId()).isEqualTo("prober");
        assertThat(aggregate.probes()).as("62 probes in the window, 5 recorded one by one").isEqualTo(57);
        assertThat(aggregate.refused()).isEqualTo(12);
        assertThat(aggregate.sample().split(",")).hasSize(ProbeLimit.SAMPLE).contains("delete_customer", "drop_5");
        assertThat(aggregate.windowEnd()).isEqualTo(aggregate.windowStart().plus(Duration.ofMinutes(1)));

        assertThat(prober.post(call(101, "drop_again")).statusCode()).as("a new window").isEqualTo(200);
    }

    @Test
    void theGuardsCloseWritesTheOpenWindowsAggregate() throws Exception {
        RawMcpHttp prober = http.raw(KEY);
        prober.initialize();
        for (int i = 0; i < 8; i++) {
            prober.post(call(i, "drop_" + i));
        }
        drain();
        http.close();
        http = GatedHttp.streamable(McpGuard.builder().policy(Policy.denyAll()).build(), KEYS, Served.of());
        List<AuditRecord> atClose = drain();
        assertThat(atClose).filteredOn(r -> r instanceof AuditRecord.ProbesAggregated).singleElement()
                .satisfies(r -> assertThat(((AuditRecord.ProbesAggregated) r).probes()).isEqualTo(3));
    }
}
