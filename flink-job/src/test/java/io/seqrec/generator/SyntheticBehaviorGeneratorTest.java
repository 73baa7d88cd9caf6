package io.seqrec.generator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.event.EventParser;
import io.seqrec.event.InvalidRecordException;
import io.seqrec.event.RawRecord;
import io.seqrec.event.SourcePosition;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SyntheticBehaviorGeneratorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<GeneratedRecord> generate(GeneratorConfig c) {
        List<GeneratedRecord> out = new ArrayList<>();
        new SyntheticBehaviorGenerator(c).forEachRemaining(out::add);
        return out;
    }

    @Test
    void sameSeedGivesSameRecords() {
        GeneratorConfig c = GeneratorConfig.defaults(50, 2000, 3);
        assertThat(generate(c)).isEqualTo(generate(c));
    }

    @Test
    void everyUserOnceFirstReachesAllUsersInTheFirstPass() {
        GeneratorConfig c = GeneratorConfig.defaults(10_000, 10_000, 5);
        List<GeneratedRecord> out = new ArrayList<>();
        new SyntheticBehaviorGenerator(c, true).forEachRemaining(out::add);
        Set<String> users = new HashSet<>();
        out.forEach(r -> users.add(r.key()));
        assertThat(users).hasSize(10_000);
        // At random, 10,000 draws reach only about 63 % of 10,000 users.
        Set<String> random = new HashSet<>();
        generate(c).forEach(r -> random.add(r.key()));
        assertThat(random.size()).isBetween(6_000, 6_700);
    }

    /** The share of events in each tenth of the run on items after the base catalog. */
    private static double[] newItemShareByTenth(List<GeneratedRecord> records, int baseItems) {
        double[] share = new double[10];
        int per = records.size() / 10;
        for (int t = 0; t < 10; t++) {
            int fresh = 0;
            for (GeneratedRecord r : records.subList(t * per, (t + 1) * per)) {
                int index = Integer.parseInt(r.event().itemId().substring("item-".length()));
                fresh += index >= baseItems ? 1 : 0;
            }
            share[t] = (double) fresh / per;
        }
        return share;
    }

    @Test
    void withDriftNewItemsAppearAndTakeOverWhileTheOldFade() {
        // 100,000 events 10 ms apart: 1,000 s of event time, 30 new items a minute, half-life 2m.
        GeneratorConfig c = GeneratorConfig.defaults(500, 100_000, 3).withDrift(30, 120_000);
        List<GeneratedRecord> records = generate(c);
        double[] share = newItemShareByTenth(records, GeneratorConfig.DEFAULT_ITEMS);
        assertThat(share[0]).isLessThan(0.2);
        assertThat(share[9]).isGreaterThan(0.8);
        for (int t = 1; t < 10; t++) {
            assertThat(share[t]).isGreaterThanOrEqualTo(share[t - 1] - 0.02);
        }
        // Released items are numbered on after the base catalog, about 30 a minute, and are
        // the same items whoever the users are.
        Set<String> released = new HashSet<>();
        for (GeneratedRecord r : records) {
            int index = Integer.parseInt(r.event().itemId().substring("item-".length()));
            if (index >= GeneratorConfig.DEFAULT_ITEMS) {
                released.add(r.event().itemId());
                assertThat(index).isLessThan(GeneratorConfig.DEFAULT_ITEMS + 500);
            }
        }
        assertThat(released.size()).isBetween(300, 500);
        Set<String> otherUsers = new HashSet<>();
        for (GeneratedRecord r :
                generate(GeneratorConfig.defaults(500, 100_000, 4).withDrift(30, 120_000))) {
            otherUsers.add(r.event().itemId());
        }
        assertThat(otherUsers).containsAnyElementsOf(released);
        assertThat(share)
                .isNotEqualTo(newItemShareByTenth(generate(c.withDrift(0, 120_000)), 2000));
    }

    @Test
    void withoutDriftTheRecordsAreThoseOfAFixedCatalog() {
        GeneratorConfig fixed = GeneratorConfig.defaults(50, 5000, 3);
        assertThat(generate(fixed.withDrift(0, 60_000))).isEqualTo(generate(fixed));
        assertThat(newItemShareByTenth(generate(fixed), GeneratorConfig.DEFAULT_ITEMS))
                .containsOnly(0.0);
    }

    @Test
    void differentUserSeedsShareTheCatalog() {
        Set<String> a = items(generate(GeneratorConfig.defaults(200, 20_000, 1)));
        Set<String> b = items(generate(GeneratorConfig.defaults(200, 20_000, 2)));
        assertThat(a).allMatch(id -> id.matches("item-\\d{5}"));
        Set<String> common = new HashSet<>(a);
        common.retainAll(b);
        assertThat(common.size()).isGreaterThan(a.size() / 2);
    }

    @Test
    void validRecordsParseAsEventsInTheInputFormat() throws Exception {
        EventParser parser = new EventParser(65536, 256, 3_600_000);
        long n = 0;
        for (GeneratedRecord r : generate(GeneratorConfig.defaults(20, 500, 5))) {
            assertThat(r.valid()).isTrue();
            parser.parse(
                    new RawRecord(
                            null,
                            r.value().getBytes(StandardCharsets.UTF_8),
                            new SourcePosition("t", 0, n++),
                            0));
        }
    }

    @Test
    void injectsRequestedFractionOfMalformedRecordsAllRejectedByTheParser() {
        GeneratorConfig c =
                new GeneratorConfig(
                        2000, 20, 100, 20_000, 9, 7, GeneratorConfig.DEFAULT_START_MS, 10, 0.1);
        EventParser parser = new EventParser(65536, 256, 3_600_000);
        int malformed = 0;
        for (GeneratedRecord r : generate(c)) {
            if (!r.valid()) {
                malformed++;
                boolean rejected = false;
                try {
                    parser.parse(
                            new RawRecord(
                                    null,
                                    r.value().getBytes(StandardCharsets.UTF_8),
                                    new SourcePosition("t", 0, 0),
                                    GeneratorConfig.DEFAULT_START_MS));
                } catch (InvalidRecordException e) {
                    rejected = true;
                }
                assertThat(rejected).as(r.value()).isTrue();
            }
        }
        assertThat(malformed).isBetween(1800, 2200);
    }

    @Test
    void nextEpisodeIsByFarTheMostCommonTransition() throws Exception {
        Map<String, String> lastItem = new HashMap<>();
        int steps = 0;
        int nextEpisode = 0;
        for (GeneratedRecord r : generate(GeneratorConfig.defaults(200, 40_000, 11))) {
            JsonNode e = JSON.readTree(r.value());
            String user = e.get("user_id").asText();
            String item = e.get("item_id").asText();
            String previous = lastItem.put(user, item);
            if (previous != null && !previous.equals(item)) {
                steps++;
                if (Integer.parseInt(item.substring(5))
                        == Integer.parseInt(previous.substring(5)) + 1) {
                    nextEpisode++;
                }
            }
        }
        // a sequence model can learn this; popularity cannot
        assertThat((double) nextEpisode / steps).isGreaterThan(0.3);
    }

    @Test
    void funnelOrdersEventTypesPerItem() throws Exception {
        Map<String, Integer> counts = new HashMap<>();
        for (GeneratedRecord r : generate(GeneratorConfig.defaults(100, 20_000, 4))) {
            counts.merge(JSON.readTree(r.value()).get("event_type").asText(), 1, Integer::sum);
        }
        assertThat(counts.get("view")).isGreaterThan(counts.get("click"));
        assertThat(counts.get("click")).isGreaterThan(counts.get("cart"));
        assertThat(counts.get("cart")).isGreaterThan(counts.get("purchase"));
    }

    private static Set<String> items(List<GeneratedRecord> records) {
        Set<String> ids = new HashSet<>();
        for (GeneratedRecord r : records) {
            try {
                ids.add(JSON.readTree(r.value()).get("item_id").asText());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
        return ids;
    }
}
