package io.seqrec.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EventParserTest {
    private static final long RECORD_TS = 1_767_225_600_000L;
    private final EventParser parser = new EventParser(4096, 64, 3_600_000);

    private static RawRecord record(byte[] value) {
        return new RawRecord(null, value, new SourcePosition("in", 1, 42), RECORD_TS);
    }

    private static RawRecord record(String value) {
        return record(value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void parsesCompleteEvent() throws Exception {
        BehaviorEvent e =
                parser.parse(
                        record(
                                "{\"user_id\":\"u1\",\"item_id\":\"i9\",\"event_type\":\"cart\","
                                    + "\"ts\":1767225600000,\"event_id\":\"e-1\",\"extra\":{\"a\":[1,2]}}"));
        assertThat(e.userId()).isEqualTo("u1");
        assertThat(e.itemId()).isEqualTo("i9");
        assertThat(e.eventType()).isEqualTo(EventType.CART);
        assertThat(e.ts()).isEqualTo(1_767_225_600_000L);
        assertThat(e.eventId()).isEqualTo("e-1");
        assertThat(e.producedTs()).isEqualTo(RECORD_TS);
    }

    @Test
    void defaultsEventTypeToViewAndDerivesEventIdFromSourcePosition() throws Exception {
        BehaviorEvent e = parser.parse(record("{\"user_id\":\"u1\",\"item_id\":\"i9\",\"ts\":5}"));
        assertThat(e.eventType()).isEqualTo(EventType.VIEW);
        assertThat(e.eventId()).isEqualTo("in-1-42");
    }

    @Test
    void readsADeletionRequestWithoutItemOrTime() throws Exception {
        BehaviorEvent e = parser.parse(record("{\"user_id\":\"u1\",\"event_type\":\"forget\"}"));
        assertThat(e.forget()).isTrue();
        assertThat(e.userId()).isEqualTo("u1");
        assertThat(e.itemId()).isNull();
        assertThat(e.eventType()).isNull();
        assertThat(e.eventId()).isEqualTo("in-1-42");
    }

    @Test
    void aDeletionRequestNeedsAUserAndAValidTimeIfItHasOne() {
        assertThatThrownBy(() -> parser.parse(record("{\"event_type\":\"forget\"}")))
                .isInstanceOfSatisfying(
                        InvalidRecordException.class,
                        e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.MISSING_FIELD));
        assertThatThrownBy(
                        () ->
                                parser.parse(
                                        record(
                                                "{\"user_id\":\"u\",\"event_type\":\"forget\","
                                                        + "\"ts\":-1}")))
                .isInstanceOfSatisfying(
                        InvalidRecordException.class,
                        e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.INVALID_TIMESTAMP));
    }

    static Stream<Arguments> badRecords() {
        String ok = "\"item_id\":\"i\",\"ts\":5";
        return Stream.of(
                Arguments.of(null, DeadLetterReason.EMPTY_VALUE),
                Arguments.of("", DeadLetterReason.EMPTY_VALUE),
                Arguments.of(
                        "{\"user_id\":\"" + "x".repeat(5000) + "\"}",
                        DeadLetterReason.RECORD_TOO_LARGE),
                Arguments.of("{not json", DeadLetterReason.INVALID_JSON),
                Arguments.of(
                        "{\"user_id\":\"u\"," + ok + "} trailing", DeadLetterReason.INVALID_JSON),
                Arguments.of("[1,2]", DeadLetterReason.NOT_AN_OBJECT),
                Arguments.of("\"just a string\"", DeadLetterReason.NOT_AN_OBJECT),
                Arguments.of(
                        "{\"a\":"
                                + "[".repeat(40)
                                + "]".repeat(40)
                                + ","
                                + "\"user_id\":\"u\","
                                + ok
                                + "}",
                        DeadLetterReason.TOO_DEEPLY_NESTED),
                Arguments.of("{" + ok + "}", DeadLetterReason.MISSING_FIELD),
                Arguments.of("{\"user_id\":null," + ok + "}", DeadLetterReason.MISSING_FIELD),
                Arguments.of("{\"user_id\":\"u\",\"ts\":5}", DeadLetterReason.MISSING_FIELD),
                Arguments.of(
                        "{\"user_id\":\"u\",\"item_id\":\"i\"}", DeadLetterReason.MISSING_FIELD),
                Arguments.of("{\"user_id\":7," + ok + "}", DeadLetterReason.WRONG_TYPE),
                Arguments.of("{\"user_id\":{\"id\":1}," + ok + "}", DeadLetterReason.WRONG_TYPE),
                Arguments.of("{\"user_id\":\"   \"," + ok + "}", DeadLetterReason.EMPTY_FIELD),
                Arguments.of(
                        "{\"user_id\":\"" + "u".repeat(65) + "\"," + ok + "}",
                        DeadLetterReason.FIELD_TOO_LONG),
                Arguments.of(
                        "{\"user_id\":\"a\\u0000b\"," + ok + "}",
                        DeadLetterReason.INVALID_CHARACTERS),
                Arguments.of(
                        "{\"user_id\":\"a\\ud800b\"," + ok + "}",
                        DeadLetterReason.INVALID_CHARACTERS),
                Arguments.of(
                        "{\"user_id\":\"a\\udc00\\ud800\"," + ok + "}",
                        DeadLetterReason.INVALID_CHARACTERS),
                Arguments.of("\uFEFF{\"user_id\":\"u\"," + ok + "}", DeadLetterReason.INVALID_JSON),
                Arguments.of(
                        "{\"user_id\":\"u\",\"item_id\":\"i\",\"ts\":" + "9".repeat(40) + "}",
                        DeadLetterReason.INVALID_TIMESTAMP),
                Arguments.of(
                        "{\"user_id\":\"u\"," + ok + ",\"other\":" + "9".repeat(40) + "}",
                        DeadLetterReason.FIELD_TOO_LONG),
                Arguments.of(
                        "{\"user_id\":\"u\",\"user_id\":\"v\"," + ok + "}",
                        DeadLetterReason.DUPLICATE_FIELD),
                Arguments.of(
                        "{\"user_id\":\"u\"," + ok + ",\"event_type\":\"teleport\"}",
                        DeadLetterReason.UNKNOWN_EVENT_TYPE),
                Arguments.of(
                        "{\"user_id\":\"u\"," + ok + ",\"event_type\":3}",
                        DeadLetterReason.WRONG_TYPE),
                Arguments.of(
                        "{\"user_id\":\"u\",\"item_id\":\"i\",\"ts\":-1}",
                        DeadLetterReason.INVALID_TIMESTAMP),
                Arguments.of(
                        "{\"user_id\":\"u\",\"item_id\":\"i\",\"ts\":0}",
                        DeadLetterReason.INVALID_TIMESTAMP),
                Arguments.of(
                        "{\"user_id\":\"u\",\"item_id\":\"i\",\"ts\":1.5}",
                        DeadLetterReason.INVALID_TIMESTAMP),
                Arguments.of(
                        "{\"user_id\":\"u\",\"item_id\":\"i\",\"ts\":99999999999999999999}",
                        DeadLetterReason.INVALID_TIMESTAMP),
                Arguments.of(
                        "{\"user_id\":\"u\",\"item_id\":\"i\",\"ts\":\"today\"}",
                        DeadLetterReason.WRONG_TYPE),
                Arguments.of(
                        "{\"user_id\":\"u\",\"item_id\":\"i\",\"ts\":"
                                + (RECORD_TS + 3_600_001)
                                + "}",
                        DeadLetterReason.FUTURE_TIMESTAMP));
    }

    @ParameterizedTest(name = "{1}: {0}")
    @MethodSource("badRecords")
    void rejectsMalformedRecordWithSpecificReason(String value, DeadLetterReason reason) {
        assertThatThrownBy(() -> parser.parse(record(value)))
                .isInstanceOfSatisfying(
                        InvalidRecordException.class,
                        e -> assertThat(e.reason()).isEqualTo(reason));
    }

    @Test
    void rejectsInvalidUtf8BeforeParsing() {
        byte[] bad =
                "{\"user_id\":\"u?\",\"item_id\":\"i\",\"ts\":5}".getBytes(StandardCharsets.UTF_8);
        bad[13] = (byte) 0xC3; // a lead byte followed by '"', not a continuation byte
        assertThatThrownBy(() -> parser.parse(record(bad)))
                .isInstanceOfSatisfying(
                        InvalidRecordException.class,
                        e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.INVALID_UTF8));
    }

    @Test
    void acceptsMultiByteUtf8Ids() throws Exception {
        // also as JSON escapes: a surrogate pair is one character, not two unpaired ones
        assertThat(
                        parser.parse(
                                        record(
                                                "{\"user_id\":\"\\ud83d\\ude00\",\"item_id\":\"i\",\"ts\":5}"))
                                .userId())
                .isEqualTo("😀");
        BehaviorEvent e =
                parser.parse(record("{\"user_id\":\"ユーザー😀\",\"item_id\":\"é\",\"ts\":5}"));
        assertThat(e.userId()).isEqualTo("ユーザー😀");
    }
}
