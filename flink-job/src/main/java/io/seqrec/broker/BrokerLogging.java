package io.seqrec.broker;

import java.lang.reflect.Method;
import java.util.List;

/**
 * Caps the in-process broker's loggers at WARN: at INFO a broker logs hundreds of lines on start
 * alone, which would drown the demo's own output.
 *
 * <p>Log4j is reached by reflection because it is only a runtime dependency (a Flink cluster brings
 * its own logging); without log4j-core this does nothing.
 */
final class BrokerLogging {

    /**
     * Broker-side packages, plus the logger of the config dumps: the broker logs its full
     * configuration (~300 lines) three times on start. Clients log their configs there too, so in a
     * JVM with an embedded broker (local runs only) theirs go as well; their other loggers keep
     * their levels.
     */
    private static final List<String> BROKER_LOGGERS =
            List.of(
                    "kafka",
                    "org.apache.kafka.common.config.AbstractConfig",
                    "state.change.logger",
                    "org.apache.kafka.controller",
                    "org.apache.kafka.coordinator",
                    "org.apache.kafka.image",
                    "org.apache.kafka.metadata",
                    "org.apache.kafka.network",
                    "org.apache.kafka.queue",
                    "org.apache.kafka.raft",
                    "org.apache.kafka.security",
                    "org.apache.kafka.server",
                    "org.apache.kafka.snapshot",
                    "org.apache.kafka.storage");

    private static volatile boolean done;

    private BrokerLogging() {}

    static void capAtWarn() {
        if (done) {
            return;
        }
        done = true;
        try {
            Class<?> level = Class.forName("org.apache.logging.log4j.Level");
            Object warn = level.getField("WARN").get(null);
            Method isMoreSpecificThan = level.getMethod("isMoreSpecificThan", level);
            Method getLogger =
                    Class.forName("org.apache.logging.log4j.LogManager")
                            .getMethod("getLogger", String.class);
            Method getLevel =
                    Class.forName("org.apache.logging.log4j.Logger").getMethod("getLevel");
            Method setLevel =
                    Class.forName("org.apache.logging.log4j.core.config.Configurator")
                            .getMethod("setLevel", String.class, level);
            for (String name : BROKER_LOGGERS) {
                Object current = getLevel.invoke(getLogger.invoke(null, name));
                // Only ever quieter: a configuration that already says ERROR or OFF stays so.
                if (current == null || !(Boolean) isMoreSpecificThan.invoke(current, warn)) {
                    setLevel.invoke(null, name, warn);
                }
            }
        } catch (ReflectiveOperationException | LinkageError e) {
            // No log4j-core: whatever logging backend is present keeps its configuration.
        }
    }
}
