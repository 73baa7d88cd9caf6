package io.seqrec.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The output topic's JSON format, written with Jackson's streaming generator (no reflection on the
 * hot path) and read back for consumers, tests and {@code seqrec tail}.
 *
 * <pre>
 * {"user_id":"u1","event_id":"e9","event_ts":1,"emitted_ts":2,"seq":3,
 *  "model_version":"m","strategy":"model","items":[{"item_id":"i7","score":4.25}, ...],
 *  "because":"i3"}
 * </pre>
 *
 * {@code because} is left out when there is none (trending lists, models without attention).
 */
public final class RecommendationCodec {
    // Scores are floats: the fast writer (Schubfach) writes the same shortest round-tripping digits
    // several times faster than Float.toString, which was the largest part of writing a record.
    private static final JsonFactory JSON =
            JsonFactory.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private RecommendationCodec() {}

    public static byte[] toJson(Recommendation r) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(96 + 40 * r.itemIds().length);
        try (JsonGenerator g = JSON.createGenerator(bytes)) {
            g.writeStartObject();
            g.writeStringField("user_id", r.userId());
            g.writeStringField("event_id", r.eventId());
            g.writeNumberField("event_ts", r.eventTs());
            g.writeNumberField("emitted_ts", r.emittedTs());
            g.writeNumberField("seq", r.seq());
            g.writeStringField("model_version", r.modelVersion());
            g.writeStringField("strategy", r.strategy());
            g.writeArrayFieldStart("items");
            for (int i = 0; i < r.itemIds().length; i++) {
                g.writeStartObject();
                g.writeStringField("item_id", r.itemIds()[i]);
                g.writeNumberField("score", r.scores()[i]);
                g.writeEndObject();
            }
            g.writeEndArray();
            if (r.because() != null) {
                g.writeStringField("because", r.because());
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Reads a recommendation written by {@link #toJson}; {@code producedTs} is not on the wire. */
    public static Recommendation fromJson(byte[] json) {
        try {
            JsonNode n = MAPPER.readTree(json);
            JsonNode items = n.get("items");
            String[] ids = new String[items.size()];
            float[] scores = new float[items.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = items.get(i).get("item_id").asText();
                scores[i] = (float) items.get(i).get("score").asDouble();
            }
            return new Recommendation(
                    n.get("user_id").asText(),
                    n.get("event_id").asText(),
                    n.get("event_ts").asLong(),
                    n.get("emitted_ts").asLong(),
                    n.get("seq").asLong(),
                    n.get("model_version").asText(),
                    // Records from before strategies existed were all the model's.
                    n.path("strategy").asText(Recommendation.MODEL),
                    ids,
                    scores,
                    n.hasNonNull("because") ? n.get("because").asText() : null,
                    0L);
        } catch (IOException | NullPointerException e) {
            throw new IllegalArgumentException("not a recommendation record: " + e.getMessage(), e);
        }
    }
}
