package io.seqrec.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What {@link EventCodec} writes, {@link EventParser} reads back as it was meant. */
class EventCodecTest {
    private final EventParser parser = new EventParser(4096, 64, 3_600_000);

    @ParameterizedTest
    @ValueSource(
            strings = {
                "plain-1",
                "quote\"and\\backslash",
                "slash/and spaces",
                "ünïcödé €",
                "emoji 🎬",
                "json {\"looking\":1}"
            })
    void writtenEventsParseBackToTheSameFields(String id) throws Exception {
        for (EventType type : EventType.values()) {
            InputEvent in =
                    new InputEvent("e:" + id, "u:" + id, "i:" + id, type, 1_767_225_600_000L);
            BehaviorEvent out = parse(EventCodec.toJson(in));
            assertThat(out.eventId()).isEqualTo(in.eventId());
            assertThat(out.userId()).isEqualTo(in.userId());
            assertThat(out.itemId()).isEqualTo(in.itemId());
            assertThat(out.eventType()).isEqualTo(type);
            assertThat(out.ts()).isEqualTo(in.ts());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 1_767_225_600_000L})
    void anEventWithoutIdTakesItsSourcePosition(long ts) throws Exception {
        String json = EventCodec.toJson(new InputEvent(null, "u1", "i1", EventType.VIEW, ts));
        assertThat(json).doesNotContain("event_id");
        assertThat(parse(json).eventId()).isEqualTo("in-0-7");
        assertThat(EventCodec.toJson(new InputEvent("e", "u1", "i1", EventType.CART, ts).withTs(5)))
                .isEqualTo(
                        "{\"event_id\":\"e\",\"user_id\":\"u1\",\"item_id\":\"i1\","
                                + "\"event_type\":\"cart\",\"ts\":5}");
    }

    private BehaviorEvent parse(String json) throws Exception {
        return parser.parse(
                new RawRecord(
                        null,
                        json.getBytes(StandardCharsets.UTF_8),
                        new SourcePosition("in", 0, 7),
                        1_767_225_600_000L));
    }
}
