package io.mcpguard.audit;

import io.mcpguard.support.CanonicalJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs each record as one JSON line on {@code io.mcpguard.audit} at INFO. */
final class Slf4jAuditSink implements AuditSink {

    private static final Logger audit = LoggerFactory.getLogger("io.mcpguard.audit");

    @Override
    public void write(AuditRecord record) {
        if (audit.isInfoEnabled()) {
            audit.info(CanonicalJson.ofOrdered(record.fields()));
        }
    }
}
