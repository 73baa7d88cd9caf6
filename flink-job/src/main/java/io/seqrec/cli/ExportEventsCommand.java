package io.seqrec.cli;

import static io.seqrec.config.Values.longInRange;
import static io.seqrec.config.Values.positiveDuration;

import io.seqrec.config.JobOptions;
import io.seqrec.config.Option;
import io.seqrec.event.DeadLetterReason;
import io.seqrec.event.EventParser;
import io.seqrec.export.EventExport;
import io.seqrec.pipeline.UserState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/** {@code seqrec export-events}: training data from the input topic (see {@link EventExport}). */
final class ExportEventsCommand {
    private ExportEventsCommand() {}

    static final Option<String> BOOTSTRAP_SERVERS = SharedOptions.bootstrapServers();
    static final Option<String> TOPIC =
            SharedOptions.topic("behavior-events", "The input topic to export from.");
    static final Option<Duration> SINCE =
            new Option<>(
                    "since",
                    null,
                    "DURATION",
                    "Export records from this long ago (Kafka timestamps).",
                    positiveDuration());
    static final Option<Long> FROM_TIMESTAMP =
            new Option<>(
                    "from-timestamp",
                    null,
                    "MS",
                    "Export records from this Kafka timestamp (epoch ms) on.",
                    longInRange(0, Long.MAX_VALUE));
    static final Option<Long> UNTIL =
            new Option<>(
                    "until",
                    null,
                    "MS",
                    "Stop at records after this Kafka timestamp (epoch ms); default: the topic's"
                            + " end when the export starts.",
                    longInRange(0, Long.MAX_VALUE));
    static final Option<Path> OUT =
            new Option<>(
                    "out",
                    null,
                    "FILE",
                    "JSON lines file to write (seqrec_model train --format events).",
                    Path::of);
    static final Option<Path> KAFKA_PROPERTIES = SharedOptions.kafkaProperties();

    static final Command COMMAND =
            new Command(
                    "export-events",
                    "the events the job accepts in a time range of the input topic, for training",
                    List.of(
                            BOOTSTRAP_SERVERS,
                            TOPIC,
                            SINCE,
                            FROM_TIMESTAMP,
                            UNTIL,
                            OUT,
                            KAFKA_PROPERTIES,
                            JobOptions.MAX_RECORD_BYTES,
                            JobOptions.MAX_FIELD_LENGTH,
                            JobOptions.MAX_FUTURE_SKEW,
                            JobOptions.ALLOWED_LATENESS,
                            JobOptions.DEDUPE_WINDOW,
                            JobOptions.MAX_EVENTS_PER_USER_PER_SECOND),
                    false,
                    ExportEventsCommand::run);

    static int run(Flags f) throws Exception {
        Path out = f.required(OUT);
        Duration since = f.get(SINCE);
        Long from = f.get(FROM_TIMESTAMP);
        if ((since == null) == (from == null)) {
            throw new UsageException(
                    "export-events: give exactly one of --since and --from-timestamp");
        }
        long fromMs = from != null ? from : System.currentTimeMillis() - since.toMillis();
        long untilMs = f.get(UNTIL, Long.MAX_VALUE);
        if (untilMs < fromMs) {
            throw new UsageException("export-events: --until is before the start of the range");
        }
        Properties p = SharedOptions.clientProperties(f.get(KAFKA_PROPERTIES));
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, f.required(BOOTSTRAP_SERVERS));
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        EventExport export =
                new EventExport(
                        p,
                        f.get(TOPIC),
                        new EventParser(
                                f.get(JobOptions.MAX_RECORD_BYTES),
                                f.get(JobOptions.MAX_FIELD_LENGTH),
                                f.get(JobOptions.MAX_FUTURE_SKEW).toMillis()),
                        new UserState.Limits(
                                f.get(JobOptions.ALLOWED_LATENESS).toMillis(),
                                1,
                                f.get(JobOptions.DEDUPE_WINDOW),
                                f.get(JobOptions.MAX_EVENTS_PER_USER_PER_SECOND)));
        EventExport.Counts done =
                export.run(
                        fromMs,
                        untilMs,
                        out,
                        c -> System.err.printf("  read %d, exported %d%n", c.read(), c.written()));
        System.out.printf(
                "exported %d events of %d records to %s%s%s%n",
                done.written(),
                done.read(),
                out,
                leftOut(done.rejected()),
                done.forgotten() == 0
                        ? ""
                        : " (left out as their users asked to be forgotten: "
                                + done.forgotten()
                                + ")");
        return 0;
    }

    private static String leftOut(Map<DeadLetterReason, Long> rejected) {
        if (rejected.isEmpty()) {
            return "";
        }
        return rejected.entrySet().stream()
                .map(e -> e.getKey().wireName() + " " + e.getValue())
                .sorted()
                .collect(Collectors.joining(", ", " (left out as the job would: ", ")"));
    }
}
