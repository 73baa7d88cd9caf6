package io.seqrec.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The output topic's JSON: fields written, read back, and the optional ones left out. */
class RecommendationCodecTest {

    private static Recommendation recommendation(String strategy, String because) {
        return new Recommendation(
                "u1",
                "e9",
                1L,
                2L,
                3L,
                "m",
                strategy,
                new String[] {"i7", "i2"},
                new float[] {4.25f, 1.5f},
                because,
                99L);
    }

    @Test
    void aModelListNamesTheItemItWasBecauseOf() {
        byte[] json = RecommendationCodec.toJson(recommendation(Recommendation.MODEL, "i3"));
        assertThat(new String(json, StandardCharsets.UTF_8))
                .isEqualTo(
                        "{\"user_id\":\"u1\",\"event_id\":\"e9\",\"event_ts\":1,\"emitted_ts\":2,"
                                + "\"seq\":3,\"model_version\":\"m\",\"strategy\":\"model\","
                                + "\"items\":[{\"item_id\":\"i7\",\"score\":4.25},"
                                + "{\"item_id\":\"i2\",\"score\":1.5}],\"because\":\"i3\"}");
        Recommendation back = RecommendationCodec.fromJson(json);
        assertThat(back.because()).isEqualTo("i3");
        assertThat(back.itemIds()).containsExactly("i7", "i2");
        assertThat(back.producedTs()).isZero(); // not on the wire
    }

    @Test
    void withoutAnExplanationTheFieldIsLeftOut() {
        byte[] json = RecommendationCodec.toJson(recommendation(Recommendation.TRENDING, null));
        assertThat(new String(json, StandardCharsets.UTF_8))
                .doesNotContain("because")
                .contains("\"strategy\":\"trending\"");
        Recommendation back = RecommendationCodec.fromJson(json);
        assertThat(back.because()).isNull();
        assertThat(back.strategy()).isEqualTo(Recommendation.TRENDING);
    }

    @Test
    void recordsWrittenBeforeStrategiesAreTheModels() {
        Recommendation old =
                RecommendationCodec.fromJson(
                        ("{\"user_id\":\"u\",\"event_id\":\"e\",\"event_ts\":1,\"emitted_ts\":2,"
                                        + "\"seq\":1,\"model_version\":\"m\",\"items\":[]}")
                                .getBytes(StandardCharsets.UTF_8));
        assertThat(old.strategy()).isEqualTo(Recommendation.MODEL);
        assertThat(old.because()).isNull();
    }
}
