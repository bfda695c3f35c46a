package io.mcpguard.audit;

import io.mcpguard.support.CanonicalJson;
import io.mcpguard.support.LogSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs each record as one escaped JSON object per line on {@code io.mcpguard.audit} at INFO. Not tamper-evident:
 * whoever can write the log can edit it; use {@link JsonLinesAuditSink} for an audit trail.
 */
final class Slf4jAuditSink implements AuditSink {

    private static final Logger audit = LoggerFactory.getLogger("io.mcpguard.audit");

    @Override
    public void write(AuditRecord record) {
        if (audit.isInfoEnabled()) {
            audit.info(LogSafe.jsonLine(CanonicalJson.ofOrdered(record.fields())));
        }
    }
}
