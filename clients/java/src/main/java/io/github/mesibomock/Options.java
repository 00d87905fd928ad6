package io.github.mesibomock;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The options and filters of a helper, as the other clients take keyword arguments: the server's own
 * names (`address`, `mid`, `kind`, `op`, `after`, `limit`, ...) or the camelCase the other clients use
 * (`pushToken`). {@code Options.of("address", "bob").count(2).timeout(5)}.
 */
public final class Options {
    private static final Map<String, String> SERVER_NAMES = Map.of("pushToken", "push_token", "pushId", "push_id");

    final Map<String, Object> values = new LinkedHashMap<>();
    int count = 1;
    boolean countGiven;
    boolean untilRemoved;
    double timeout = 10;
    boolean allApps;

    public static Options none() {
        return new Options();
    }

    public static Options of(String key, Object value) {
        return new Options().and(key, value);
    }

    public static Options of(Map<String, ?> values) {
        Options options = new Options();
        values.forEach(options::and);
        return options;
    }

    /** One more option or filter; a null value is left out. */
    public Options and(String key, Object value) {
        if (value != null) {
            values.put(SERVER_NAMES.getOrDefault(key, key), value);
        }
        return this;
    }

    /** How many records a wait waits for (default 1); how many pushes or calls a fault meets. */
    public Options count(int count) {
        this.count = count;
        this.countGiven = true;
        return this;
    }

    /** A fault that lasts until it is removed. */
    public Options untilRemoved() {
        this.untilRemoved = true;
        return this;
    }

    /** A fault's count as the server takes it: given, or until removed (null), else 1. */
    Integer faultCount() {
        return untilRemoved ? null : countGiven ? count : 1;
    }

    /** How long a wait waits, in seconds (default 10). */
    public Options timeout(double seconds) {
        this.timeout = seconds;
        return this;
    }

    /** A list or a clearing acts on every app, not only its own. */
    public Options allApps() {
        this.allApps = true;
        return this;
    }

    public Options after(long journalId) {
        return and("after", journalId);
    }

    public Options limit(int limit) {
        return and("limit", limit);
    }

    Object get(String key) {
        return values.get(key);
    }

    Options copy() {
        Options copy = new Options();
        copy.values.putAll(values);
        copy.count = count;
        copy.countGiven = countGiven;
        copy.untilRemoved = untilRemoved;
        copy.timeout = timeout;
        copy.allApps = allApps;
        return copy;
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
