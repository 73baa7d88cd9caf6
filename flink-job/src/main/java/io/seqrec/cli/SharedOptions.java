package io.seqrec.cli;

import static io.seqrec.config.Values.doubleInRange;
import static io.seqrec.config.Values.intInRange;
import static io.seqrec.config.Values.longInRange;
import static io.seqrec.config.Values.nonEmpty;

import io.seqrec.config.ConfigException;
import io.seqrec.config.Option;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Options that several commands have, each command with its own default: one definition of the
 * name, the value's form and its check.
 */
final class SharedOptions {
    private SharedOptions() {}

    static Option<String> bootstrapServers() {
        return new Option<>(
                "bootstrap-servers", null, "HOST:PORT", "Kafka bootstrap servers.", nonEmpty());
    }

    static Option<Path> kafkaProperties() {
        return new Option<>(
                "kafka-properties",
                null,
                "FILE",
                "Java properties file of Kafka client settings (security etc.).",
                s -> Path.of(nonEmpty().apply(s)));
    }

    /** The client settings in {@code file} ({@code --kafka-properties}), or none. */
    static Properties clientProperties(Path file) {
        Properties props = new Properties();
        if (file != null) {
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                props.load(in);
            } catch (IOException e) {
                throw new ConfigException(
                        "--kafka-properties '" + file + "': cannot read: " + e.getMessage(), e);
            }
        }
        return props;
    }

    static Option<String> topic(String defaultTopic, String what) {
        return new Option<>("topic", defaultTopic, "TOPIC", what, nonEmpty());
    }

    static Option<Long> events(String defaultValue, long min, String what) {
        return new Option<>("events", defaultValue, "N", what, longInRange(min, Long.MAX_VALUE));
    }

    static Option<Integer> users(String defaultValue, String what) {
        return new Option<>("users", defaultValue, "U", what, intInRange(1, Integer.MAX_VALUE));
    }

    static Option<Long> seed(String defaultValue) {
        return new Option<>(
                "seed",
                defaultValue,
                "S",
                "Random seed.",
                longInRange(Long.MIN_VALUE, Long.MAX_VALUE));
    }

    static Option<Double> rate(String defaultValue, String what) {
        return new Option<>("rate", defaultValue, "EPS", what, doubleInRange(0, 1e9));
    }

    static Option<Double> malformedFraction(String defaultValue) {
        return new Option<>(
                "malformed-fraction",
                defaultValue,
                "F",
                "Share of records replaced by malformed ones (for the dead-letter path).",
                doubleInRange(0, 1));
    }
}
