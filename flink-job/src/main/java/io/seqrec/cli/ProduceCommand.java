package io.seqrec.cli;

import io.seqrec.config.ConfigException;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * {@code seqrec produce}: replays real interaction data, or synthetic events, into the input topic.
 * Replayed users are interleaved round-robin (each user's items in order) and stamped with the
 * current time, like live traffic.
 */
final class ProduceCommand {
    private ProduceCommand() {}

    static int run(String[] args) throws Exception {
        Flags f =
                new Flags(
                        args,
                        Set.of(
                                "bootstrap-servers",
                                "topic",
                                "source",
                                "format",
                                "rate",
                                "events",
                                "users",
                                "seed",
                                "items",
                                "categories",
                                "catalog-seed",
                                "malformed-fraction",
                                "every-user-once-first",
                                "kafka-properties"));
        f.rejectRest();
        String bootstrap = f.required("bootstrap-servers");
        String topic = f.string("topic", "behavior-events");
        String source = f.required("source");
        double rate = f.doubleValue("rate", 0, 0, 1e9);
        long limit =
                f.longValue("events", source.equals("synthetic") ? 100_000 : Long.MAX_VALUE, 1);
        Properties props = loadProperties(f.string("kafka-properties", null));
        long sent;
        try (EventSender sender = new EventSender(bootstrap, props, topic, rate)) {
            if (source.equals("synthetic")) {
                sent = produceSynthetic(f, sender, limit);
            } else {
                sent =
                        produceFile(
                                Path.of(source), f.string("format", "events-jsonl"), sender, limit);
            }
        }
        System.out.println("produced " + sent + " records to " + topic);
        return 0;
    }

    private static long produceSynthetic(Flags f, EventSender sender, long limit)
            throws InterruptedException {
        SyntheticBehaviorGenerator g =
                new SyntheticBehaviorGenerator(
                        GenerateCommand.generatorConfig(f, 1000, limit, System.currentTimeMillis()),
                        Boolean.parseBoolean(f.string("every-user-once-first", "false")));
        long n = 0;
        while (g.hasNext()) {
            GeneratedRecord r = g.next();
            sender.send(r.key(), stampNow(r.value()));
            n++;
        }
        return n;
    }

    /** Synthetic events are generated ahead; stamp them with the send time like live events. */
    static String stampNow(String json) {
        int at = json.lastIndexOf("\"ts\":");
        if (at < 0) {
            return json;
        }
        int end = at + 5;
        while (end < json.length() && Character.isDigit(json.charAt(end))) {
            end++;
        }
        return json.substring(0, at + 5) + System.currentTimeMillis() + json.substring(end);
    }

    private static long produceFile(Path file, String format, EventSender sender, long limit)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--source '" + file + "': no such file");
        }
        long n = 0;
        if (format.equals("events-jsonl")) {
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
                ReplaySource.read(file, ReplaySource.parseFormat(format));
        for (ReplaySource.Interaction ev : ReplaySource.interleave(users, limit)) {
            sender.send(ev.userId(), replayJson(ev.userId(), ev.itemId(), ev.ordinal()));
            n++;
        }
        return n;
    }

    /** A replayed event: the user's {@code ordinal}-th, stamped with the current time. */
    static String replayJson(String userId, String itemId, int ordinal) {
        return "{\"event_id\":\"replay-"
                + userId
                + "-"
                + ordinal
                + "\",\"user_id\":\""
                + userId
                + "\",\"item_id\":\""
                + itemId
                + "\",\"event_type\":\"view\",\"ts\":"
                + System.currentTimeMillis()
                + "}";
    }

    static Properties loadProperties(String file) {
        Properties props = new Properties();
        if (file != null) {
            try (Reader in = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
                props.load(in);
            } catch (IOException e) {
                throw new ConfigException(
                        "--kafka-properties '" + file + "': cannot read: " + e.getMessage(), e);
            }
        }
        return props;
    }
}
