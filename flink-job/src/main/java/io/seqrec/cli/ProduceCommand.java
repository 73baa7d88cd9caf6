package io.seqrec.cli;

import static io.seqrec.config.Values.bool;
import static io.seqrec.config.Values.nonEmpty;

import io.seqrec.config.Option;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.ReplaySource;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import io.seqrec.kafka.EventSender;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code seqrec produce}: replays real interaction data, or synthetic events, into the input topic.
 * Replayed users are interleaved round-robin (each user's items in order) and stamped with the
 * current time, like live traffic.
 */
final class ProduceCommand {
    private ProduceCommand() {}

    private static final String EVENTS_JSONL = "events-jsonl";

    static final Option<String> BOOTSTRAP_SERVERS = SharedOptions.bootstrapServers();
    static final Option<String> TOPIC =
            SharedOptions.topic("behavior-events", "The input topic to write to.");
    static final Option<String> SOURCE =
            new Option<>(
                    "source",
                    null,
                    "synthetic|FILE",
                    "The synthetic generator, or a file to replay.",
                    nonEmpty());
    static final Option<String> FORMAT =
            new Option<>(
                    "format",
                    EVENTS_JSONL,
                    "events-jsonl|ml-1m|movielens-csv|pairs",
                    "Format of a --source file (events-jsonl lines are sent as they are).",
                    s -> {
                        if (!s.equals(EVENTS_JSONL)) {
                            io.seqrec.config.Values.oneOf(ReplaySource.Format.class).apply(s);
                        }
                        return s;
                    });
    static final Option<Double> RATE =
            SharedOptions.rate("0", "Events per second (0 = as fast as the broker takes them).");
    static final Option<Long> EVENTS =
            SharedOptions.events(null, 1, "Events to send (synthetic: 100000; a file: all of it).");
    static final Option<Integer> USERS = SharedOptions.users("1000", "Synthetic users.");
    static final Option<Boolean> EVERY_USER_ONCE_FIRST =
            new Option<>(
                    "every-user-once-first",
                    "false",
                    "BOOL",
                    "Synthetic: every user's first event before anyone's second.",
                    bool());
    static final Option<java.nio.file.Path> KAFKA_PROPERTIES = SharedOptions.kafkaProperties();

    static final Command COMMAND =
            new Command(
                    "produce",
                    "write events to the input topic",
                    List.of(
                            BOOTSTRAP_SERVERS,
                            TOPIC,
                            SOURCE,
                            FORMAT,
                            RATE,
                            EVENTS,
                            USERS,
                            SharedOptions.GENERATOR_SEED,
                            SharedOptions.GENERATOR_ITEMS,
                            SharedOptions.GENERATOR_CATEGORIES,
                            SharedOptions.GENERATOR_CATALOG_SEED,
                            SharedOptions.GENERATOR_MALFORMED,
                            SharedOptions.GENERATOR_NEW_ITEMS,
                            SharedOptions.GENERATOR_DRIFT_HALF_LIFE,
                            SharedOptions.FUNNEL_VIEW_TO_CLICK,
                            SharedOptions.FUNNEL_CLICK_TO_CART,
                            SharedOptions.FUNNEL_CART_TO_PURCHASE,
                            SharedOptions.FUNNEL_CART_RETURN_RATE,
                            SharedOptions.FUNNEL_CONSUMABLE_SHARE,
                            EVERY_USER_ONCE_FIRST,
                            KAFKA_PROPERTIES),
                    false,
                    ProduceCommand::run);

    static int run(Flags f) throws Exception {
        String source = f.required(SOURCE);
        String topic = f.get(TOPIC);
        boolean synthetic = source.equals("synthetic");
        long limit = f.get(EVENTS, synthetic ? 100_000 : Long.MAX_VALUE);
        long sent;
        try (EventSender sender =
                new EventSender(
                        f.required(BOOTSTRAP_SERVERS),
                        SharedOptions.clientProperties(f.get(KAFKA_PROPERTIES)),
                        topic,
                        f.get(RATE))) {
            sent =
                    synthetic
                            ? produceSynthetic(f, sender, limit)
                            : produceFile(Path.of(source), f.get(FORMAT), sender, limit);
        }
        System.out.println("produced " + sent + " records to " + topic);
        return 0;
    }

    private static long produceSynthetic(Flags f, EventSender sender, long limit)
            throws InterruptedException {
        SyntheticBehaviorGenerator g =
                new SyntheticBehaviorGenerator(
                        SharedOptions.generatorConfig(
                                f, f.get(USERS), limit, System.currentTimeMillis()),
                        f.get(EVERY_USER_ONCE_FIRST));
        long n = 0;
        while (g.hasNext()) {
            GeneratedRecord r = g.next();
            // Generated ahead: stamped with the send time, like live events.
            sender.send(r.key(), r.valueAt(System.currentTimeMillis()));
            n++;
        }
        return n;
    }

    private static long produceFile(Path file, String format, EventSender sender, long limit)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--source '" + file + "': no such file");
        }
        long n = 0;
        if (format.equals(EVENTS_JSONL)) {
            try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null && n < limit) {
                    if (!line.isBlank()) {
                        sender.send(null, line);
                        n++;
                    }
                }
            }
            return n;
        }
        List<ReplaySource.UserSequence> users =
                ReplaySource.read(
                        file,
                        ReplaySource.Format.valueOf(
                                format.toUpperCase(Locale.ROOT).replace('-', '_')));
        for (ReplaySource.Interaction ev : ReplaySource.interleave(users, limit)) {
            sender.send(ev.userId(), replayJson(ev.userId(), ev.itemId(), ev.ordinal()));
            n++;
        }
        return n;
    }

    /** A replayed event: the user's {@code ordinal}-th, stamped with the current time. */
    private static String replayJson(String userId, String itemId, int ordinal) {
        return EventCodec.toJson(
                new InputEvent(
                        "replay-" + userId + "-" + ordinal,
                        userId,
                        itemId,
                        EventType.VIEW,
                        System.currentTimeMillis()));
    }
}
