package io.seqrec.event;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.TestPaths;
import io.seqrec.config.JobConfig;
import io.seqrec.pipeline.RecommendOptions;
import io.seqrec.pipeline.UserState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Holds the job to the event contract it shares with the training-data reader: every case of {@code
 * contracts/behavior-events.jsonl} (format in {@code contracts/README.md}) must get the verdict the
 * file gives it. The model package's {@code tests/test_events.py} checks the Python reader against
 * the same file.
 */
class EventContractTest {
    private static final Path CONTRACT =
            TestPaths.repoRoot().resolve("contracts/behavior-events.jsonl");
    private static final List<String> CONTEXTS =
            List.of("record", "kafka", "user_history", "arrival_order");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A record read from a file rather than Kafka has no timestamp (Kafka's NO_TIMESTAMP). */
    private static final long NO_TIMESTAMP = -1;

    /** The job as it runs without flags: the contract's limits are the options' defaults. */
    private final JobConfig config =
            JobConfig.fromArgs(new String[] {"--bootstrap-servers", "unused:9092"});

    private final UserState.Limits limits = RecommendOptions.from(config).stateLimits();

    private final EventParser parser =
            new EventParser(
                    config.maxRecordBytes(),
                    config.maxFieldLength(),
                    config.maxFutureSkew().toMillis());

    static Stream<Arguments> cases() throws IOException {
        return Files.readAllLines(CONTRACT, UTF_8).stream()
                .filter(line -> !line.isBlank())
                .map(EventContractTest::readCase)
                .map(c -> Arguments.of(c.required("case").asText(), c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void jobGivesEveryCaseItsContractedVerdict(String name, JsonNode c) {
        assertThat(CONTEXTS).contains(c.required("context").asText());
        long kafkaTimestamp = c.path("kafka_timestamp").asLong(NO_TIMESTAMP);
        List<JsonNode> values = new ArrayList<>();
        c.path("history").forEach(values::add);
        values.add(c.required("value"));

        // Earlier events of the stream first, through the same per-user state the job keeps.
        Map<String, UserState> users = new HashMap<>();
        String verdict = null;
        BehaviorEvent event = null;
        SourcePosition source = null;
        for (int i = 0; i < values.size(); i++) {
            source = new SourcePosition("contract", 0, i);
            RawRecord raw = new RawRecord(null, bytes(values.get(i)), source, kafkaTimestamp);
            try {
                event = parser.parse(raw);
                if (event.forget()) {
                    users.remove(event.userId());
                    verdict = "forget";
                    continue;
                }
                UserState.Transition t =
                        users.getOrDefault(event.userId(), new UserState())
                                .apply(
                                        event.eventId(),
                                        StableHash.of(event.itemId()),
                                        event.eventType(),
                                        event.ts(),
                                        limits);
                users.put(event.userId(), t.state());
                verdict = verdict(t.outcome());
            } catch (InvalidRecordException e) {
                verdict = e.reason().wireName();
            }
            if (i < values.size() - 1) {
                assertThat(verdict).as("history record %d", i).isEqualTo("accepted");
            }
        }

        assertThat(verdict).as(name).isEqualTo(c.required("expect").asText());
        if (verdict.equals("accepted") || verdict.equals("forget")) {
            assertThat(Fields.of(event)).as(name).isEqualTo(Fields.of(c.required("event"), source));
        }
    }

    /** What {@code RecommendOperator} makes of an event from what its user's state says. */
    private static String verdict(UserState.Applied applied) {
        switch (applied) {
            case LATE:
                return DeadLetterReason.LATE.wireName();
            case DUPLICATE:
                return DeadLetterReason.DUPLICATE_EVENT_ID.wireName();
            case RATE_LIMITED: // off at the defaults every case is read with
                return DeadLetterReason.RATE_LIMITED.wireName();
            default:
                return "accepted";
        }
    }

    /** A case's value: null (a tombstone), a string (its UTF-8 bytes) or a list of parts. */
    private static byte[] bytes(JsonNode value) {
        if (value.isNull()) {
            return null;
        }
        if (value.isTextual()) {
            return value.asText().getBytes(UTF_8);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (JsonNode part : value) {
            if (part.isTextual()) {
                out.writeBytes(part.asText().getBytes(UTF_8));
            } else if (part.has("repeat")) {
                String s = part.required("repeat").asText();
                out.writeBytes(s.repeat(part.required("times").asInt()).getBytes(UTF_8));
            } else {
                out.writeBytes(HexFormat.of().parseHex(part.required("hex").asText()));
            }
        }
        return out.toByteArray();
    }

    private static JsonNode readCase(String line) {
        try {
            return JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("unreadable case in " + CONTRACT + ": " + line, e);
        }
    }

    /** The parsed fields a case names, comparable with a parsed event. */
    private record Fields(String userId, String itemId, String eventType, Long ts, String eventId) {

        /** A deletion request's absent {@code ts} is 0 in the job, {@code null} in the case. */
        static Fields of(BehaviorEvent e) {
            return e.forget()
                    ? new Fields(
                            e.userId(),
                            null,
                            EventParser.FORGET,
                            e.ts() == 0 ? null : e.ts(),
                            e.eventId())
                    : new Fields(
                            e.userId(), e.itemId(), e.eventType().wireName(), e.ts(), e.eventId());
        }

        /** A case's {@code event}; an event_id of null is the one the job derives. */
        static Fields of(JsonNode event, SourcePosition source) {
            JsonNode eventId = event.required("event_id");
            return new Fields(
                    event.required("user_id").asText(),
                    event.required("item_id").isNull() ? null : event.get("item_id").asText(),
                    event.required("event_type").asText(),
                    event.required("ts").isNull() ? null : event.get("ts").asLong(),
                    eventId.isNull() ? source.derivedEventId() : eventId.asText());
        }
    }
}
