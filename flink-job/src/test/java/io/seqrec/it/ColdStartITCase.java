package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import io.seqrec.event.Recommendation;
import io.seqrec.it.RecoveryRuns.Output;
import io.seqrec.model.ModelArtifact;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users the model knows nothing of get what is trending: new users whose items are all new to the
 * model get the trending top-K ({@code strategy} {@code trending}) without the items they have
 * seen, ranked by what the stream made popular; users with an item the model knows get the model's
 * list; and a new item that many users take up becomes trending itself.
 */
class ColdStartITCase {
    private static final int PARALLELISM = 2;
    private static final int K = 10;

    @RegisterExtension static final MiniClusterExtension FLINK = Jobs.miniCluster(PARALLELISM);
    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;

    @Test
    void usersTheModelKnowsNothingOfGetTrendingListsOthersTheModels() throws Exception {
        ModelArtifact model = ModelArtifact.load(TestPaths.defaultModel());
        KAFKA.createJobTopics(PARALLELISM, "cold-in", "cold-out", "cold-dlq");
        JobClient job =
                Jobs.start(
                        RecoveryRuns.config(
                                KAFKA.bootstrapServers(),
                                "cold",
                                "cold-in",
                                "cold-out",
                                "cold-dlq",
                                "at-least-once",
                                tmp.resolve("ckpt")),
                        PARALLELISM,
                        "cold-start");

        // 1. Known users on the model's catalog: what trending learns from.
        List<String[]> known = RecoveryRuns.syntheticInput(300, 3000, 5);
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "cold-in", known);
        Output first =
                Output.await(
                        KAFKA.bootstrapServers(),
                        "cold-out",
                        "cold-dlq",
                        known.size(),
                        Duration.ofMinutes(2));
        assertThat(first.distinctEvents() + first.deadLetters()).isEqualTo(known.size());

        // 2. New users: 200 whose items are all new to the model, the first 150 of them taking up
        //    one new item "fresh-hit" second; 50 whose first item is one the model knows.
        long ts = System.currentTimeMillis();
        List<String[]> second = new ArrayList<>();
        String knownItem = model.itemId(1);
        for (int u = 0; u < 200; u++) {
            second.add(event("cold-" + u, "c" + u + "-1", "fresh-" + u, ts + u));
        }
        for (int u = 0; u < 150; u++) {
            second.add(event("cold-" + u, "c" + u + "-2", "fresh-hit", ts + 1000 + u));
        }
        for (int u = 0; u < 50; u++) {
            second.add(event("warm-" + u, "w" + u + "-1", knownItem, ts + 2000 + u));
        }
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "cold-in", second);
        int total = known.size() + second.size();
        Output all =
                Output.await(
                        KAFKA.bootstrapServers(),
                        "cold-out",
                        "cold-dlq",
                        total,
                        Duration.ofMinutes(2));
        assertThat(all.distinctEvents() + all.deadLetters()).isEqualTo(total);

        Map<String, Recommendation> byEvent = all.byEvent();
        // Known users: the model's lists (every synthetic user's first item is in the catalog or
        // becomes so within a few events; those with none yet may get trending lists).
        long knownModel =
                first.records().stream()
                        .filter(r -> r.strategy().equals(Recommendation.MODEL))
                        .count();
        assertThat(knownModel).isGreaterThan(first.records().size() * 9L / 10);

        // Exact popularity of the first phase's items: trending lists start from its top.
        Map<String, Integer> counts = new HashMap<>();
        for (String[] kv : known) {
            String item = itemOf(kv[1]);
            if (item != null) {
                counts.merge(item, 1, Integer::sum);
            }
        }
        List<String> popular =
                counts.entrySet().stream()
                        .sorted(
                                Map.Entry.<String, Integer>comparingByValue(
                                        Comparator.reverseOrder()))
                        .map(Map.Entry::getKey)
                        .limit(20)
                        .toList();

        for (int u = 0; u < 200; u++) {
            Recommendation r = byEvent.get("c" + u + "-1");
            assertThat(r.strategy())
                    .as("new user %d, new item", u)
                    .isEqualTo(Recommendation.TRENDING);
            assertThat(r.itemIds()).hasSize(K).doesNotContain("fresh-" + u).doesNotHaveDuplicates();
            assertThat(popular).as("the top trending item for cold-%d", u).contains(r.itemIds()[0]);
            assertThat(r.modelVersion()).isEqualTo(model.modelVersion());
            assertThat(r.because()).as("a trending list is because of nothing").isNull();
        }
        Set<String> secondLists = new HashSet<>();
        for (int u = 0; u < 150; u++) {
            Recommendation r = byEvent.get("c" + u + "-2");
            assertThat(r.strategy()).isEqualTo(Recommendation.TRENDING);
            assertThat(r.seq()).isEqualTo(2);
            assertThat(r.itemIds()).hasSize(K).doesNotContain("fresh-" + u, "fresh-hit");
            secondLists.add(String.join(",", r.itemIds()));
        }
        for (int u = 0; u < 50; u++) {
            Recommendation r = byEvent.get("w" + u + "-1");
            assertThat(r.strategy())
                    .as("new user with a known item")
                    .isEqualTo(Recommendation.MODEL);
            assertThat(r.itemIds()).hasSize(K).doesNotContain(knownItem);
            // The one item of the history the model knows is what the list is because of.
            assertThat(r.because()).isEqualTo(knownItem);
        }
        // The new item the new users took up is trending now: a further new user gets it first.
        // 150 interactions in a few seconds outrank every catalog item, whose 3,000 interactions
        // are spread over hundreds of items.
        List<String[]> late = new ArrayList<>();
        late.add(event("cold-late", "late-1", "fresh-late", ts + 5000));
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "cold-in", late);
        Output withLate =
                Output.await(
                        KAFKA.bootstrapServers(),
                        "cold-out",
                        "cold-dlq",
                        total + 1,
                        Duration.ofMinutes(1));
        job.cancel().get();
        Recommendation lateList = withLate.byEvent().get("late-1");
        assertThat(lateList.strategy()).isEqualTo(Recommendation.TRENDING);
        assertThat(lateList.itemIds()[0]).isEqualTo("fresh-hit");
        assertThat(secondLists).isNotEmpty();
    }

    private static String[] event(String user, String eventId, String item, long ts) {
        return new String[] {
            user, EventCodec.toJson(new InputEvent(eventId, user, item, EventType.VIEW, ts))
        };
    }

    private static String itemOf(String json) {
        int i = json.indexOf("\"item_id\":\"");
        if (i < 0) {
            return null;
        }
        int from = i + "\"item_id\":\"".length();
        return json.substring(from, json.indexOf('"', from));
    }
}
