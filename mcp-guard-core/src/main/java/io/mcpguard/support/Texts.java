package io.mcpguard.support;

import java.time.Duration;

/** Readable text for messages agents and operators read. Unstable API. */
public final class Texts {

    private Texts() {
    }

    /** Formats a duration the way a person says it: {@code 1 minute}, {@code 30 seconds}, {@code 250 ms}. */
    public static String duration(Duration d) {
        long millis = (d.toNanos() + 999_999) / 1_000_000;
        if (millis >= 3_600_000 && millis % 3_600_000 == 0) {
            return plural(millis / 3_600_000, "hour");
        }
        if (millis >= 60_000 && millis % 60_000 == 0) {
            return plural(millis / 60_000, "minute");
        }
        if (millis >= 1_000 && millis % 1_000 == 0) {
            return plural(millis / 1_000, "second");
        }
        return millis + " ms";
    }

    private static String plural(long n, String unit) {
        return n + " " + unit + (n == 1 ? "" : "s");
    }
}
