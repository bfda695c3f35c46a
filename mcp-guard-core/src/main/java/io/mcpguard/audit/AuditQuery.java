package io.mcpguard.audit;

import io.modelcontextprotocol.json.McpJsonDefaults;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Answers "what exactly did this agent touch?" from a JSON Lines audit file: its records for one agent or one run,
 * in order. Verify the file first ({@link AuditVerifier}); this reads, it does not judge.
 */
public final class AuditQuery {

    private final List<Map<String, Object>> records;

    private AuditQuery(List<Map<String, Object>> records) {
        this.records = records;
    }

    /**
     * Reads a file's records (checkpoints left out), in order.
     *
     * @param file the file
     * @return the query
     * @throws IOException if it cannot be read
     */
    @SuppressWarnings("unchecked")
    public static AuditQuery load(Path file) throws IOException {
        List<Map<String, Object>> records = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                Map<String, Object> fields = McpJsonDefaults.getMapper().readValue(line, Map.class);
                if (!"checkpoint".equals(fields.get("type"))) {
                    records.add(Map.copyOf(fields));
                }
            }
        }
        return new AuditQuery(List.copyOf(records));
    }

    /**
     * Returns every record.
     *
     * @return the records, in order
     */
    public List<Map<String, Object>> all() {
        return records;
    }

    /**
     * Returns one agent's records, in order.
     *
     * @param agentId the agent
     * @return its records
     */
    public List<Map<String, Object>> forAgent(String agentId) {
        Objects.requireNonNull(agentId, "agentId");
        return records.stream().filter(r -> agentId.equals(r.get("agentId"))).toList();
    }

    /**
     * Returns one run's records, in order.
     *
     * @param runId the run id
     * @return its records
     */
    public List<Map<String, Object>> forRun(String runId) {
        Objects.requireNonNull(runId, "runId");
        return records.stream().filter(r -> runId.equals(r.get("runId"))).toList();
    }

    /**
     * Returns what an agent touched: its calls that ran, as {@code time method target args=sha256 outcome} lines, in
     * order.
     *
     * @param agentId the agent
     * @return one line per call that ran
     */
    public List<String> touched(String agentId) {
        return forAgent(agentId).stream().filter(r -> "call.outcome".equals(r.get("type")))
                .map(r -> r.get("time") + " " + r.get("method") + " " + r.get("target") + " args="
                        + r.get("argumentsSha256") + " " + r.get("outcome"))
                .toList();
    }
}
