package io.seqrec.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.event.EventParser;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
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
        assertThat(share[0]).isLessThan(0.25);
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

    /** A funnel with these rates, in the order of {@link GeneratorConfig.Funnel}. */
    private static GeneratorConfig.Funnel funnel(
            double viewToClick,
            double clickToCart,
            double cartToPurchase,
            double cartReturnRate,
            double consumableShare) {
        return new GeneratorConfig.Funnel(
                viewToClick, clickToCart, cartToPurchase, cartReturnRate, consumableShare);
    }

    /** Each user's events, in order. */
    private static Map<String, List<InputEvent>> byUser(List<GeneratedRecord> records) {
        Map<String, List<InputEvent>> out = new HashMap<>();
        for (GeneratedRecord r : records) {
            out.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.event());
        }
        return out;
    }

    /**
     * Measured conversion rates: the share of a user's views, clicks and carts whose next event is
     * the next step of the funnel on the same item.
     */
    private static double[] conversionRates(List<GeneratedRecord> records) {
        long[] from = new long[3];
        long[] converted = new long[3];
        EventType[] funnel = {EventType.VIEW, EventType.CLICK, EventType.CART, EventType.PURCHASE};
        for (List<InputEvent> evs : byUser(records).values()) {
            for (int i = 0; i + 1 < evs.size(); i++) {
                InputEvent e = evs.get(i);
                InputEvent next = evs.get(i + 1);
                for (int k = 0; k < 3; k++) {
                    if (e.type() == funnel[k]) {
                        from[k]++;
                        if (next.type() == funnel[k + 1] && next.itemId().equals(e.itemId())) {
                            converted[k]++;
                        }
                    }
                }
            }
        }
        return new double[] {
            (double) converted[0] / from[0],
            (double) converted[1] / from[1],
            (double) converted[2] / from[2]
        };
    }

    @Test
    void measuredConversionRatesAreTheConfiguredOnes() {
        GeneratorConfig defaults = GeneratorConfig.defaults(2000, 300_000, 21);
        assertThat(conversionRates(generate(defaults)))
                .containsExactly(new double[] {0.4, 0.35, 0.5}, within(0.015));
        GeneratorConfig other = defaults.withFunnel(funnel(0.7, 0.2, 0.8, 0.3, 0.1));
        assertThat(conversionRates(generate(other)))
                .containsExactly(new double[] {0.7, 0.2, 0.8}, within(0.015));
    }

    @Test
    void noClicksWithoutViewsAndNoPurchasesWithoutCartsWhenRatesAreZero() {
        GeneratorConfig c =
                GeneratorConfig.defaults(200, 20_000, 3).withFunnel(funnel(0, 1, 1, 1, 1));
        assertThat(generate(c)).allMatch(r -> r.event().type() == EventType.VIEW);
    }

    /**
     * Whether {@code evs[i]} is a purchase straight away, not at the end of the item's funnel: a
     * return to an abandoned cart or a consumable's rebuy.
     */
    private static boolean straightPurchase(List<InputEvent> evs, int i) {
        InputEvent e = evs.get(i);
        return e.type() == EventType.PURCHASE
                && (i == 0
                        || evs.get(i - 1).type() != EventType.CART
                        || !evs.get(i - 1).itemId().equals(e.itemId()));
    }

    /** The items of the straight purchases ({@link #straightPurchase}). */
    private static List<String> straightPurchases(List<GeneratedRecord> records) {
        List<String> items = new ArrayList<>();
        for (List<InputEvent> evs : byUser(records).values()) {
            for (int i = 0; i < evs.size(); i++) {
                if (straightPurchase(evs, i)) {
                    items.add(evs.get(i).itemId());
                }
            }
        }
        return items;
    }

    @Test
    void someAbandonedCartsAreBoughtLaterStraightAway() {
        GeneratorConfig c =
                GeneratorConfig.defaults(1000, 200_000, 8)
                        .withFunnel(funnel(0.4, 0.35, 0.5, 0.3, 0));
        long abandoned = 0;
        long boughtLater = 0;
        for (List<InputEvent> evs : byUser(generate(c)).values()) {
            Set<String> left = new HashSet<>();
            for (int i = 0; i < evs.size(); i++) {
                InputEvent e = evs.get(i);
                boolean last = i + 1 == evs.size();
                if (e.type() == EventType.CART
                        && !last
                        && !(evs.get(i + 1).type() == EventType.PURCHASE
                                && !straightPurchase(evs, i + 1))) {
                    abandoned++;
                    left.add(e.itemId());
                }
                // A return: a purchase not preceded by the item's cart, of an item left in it.
                if (straightPurchase(evs, i)) {
                    assertThat(left).contains(e.itemId());
                    boughtLater++;
                }
            }
        }
        assertThat(abandoned).isGreaterThan(1000);
        // 30 % come back; a few are still due when the run ends.
        assertThat((double) boughtLater / abandoned).isBetween(0.2, 0.3);
        GeneratorConfig never = c.withFunnel(funnel(0.4, 0.35, 0.5, 0, 0));
        assertThat(straightPurchases(generate(never))).isEmpty();
    }

    @Test
    void consumablesAreBoughtAgainStraightAway() {
        GeneratorConfig c =
                GeneratorConfig.defaults(1000, 200_000, 9)
                        .withFunnel(funnel(0.4, 0.35, 0.5, 0, 0.2));
        SyntheticBehaviorGenerator.Catalog catalog =
                new SyntheticBehaviorGenerator.Catalog(c.items(), c.categories(), c.catalogSeed());
        List<String> rebought = straightPurchases(generate(c));
        assertThat(rebought.size()).isGreaterThan(500);
        assertThat(rebought)
                .allMatch(id -> catalog.isConsumable(Integer.parseInt(id.substring(5)), 0.2));
    }

    @Test
    void consumablesAreTheCatalogsShareAndGrowWithIt() {
        SyntheticBehaviorGenerator.Catalog catalog =
                new SyntheticBehaviorGenerator.Catalog(2000, 20, 7);
        int few = 0;
        int more = 0;
        for (int i = 0; i < 2000; i++) {
            if (catalog.isConsumable(i, 0.1)) {
                few++;
                assertThat(catalog.isConsumable(i, 0.3)).isTrue();
            }
            more += catalog.isConsumable(i, 0.3) ? 1 : 0;
            assertThat(catalog.isConsumable(i, 0)).isFalse();
            assertThat(catalog.isConsumable(i, 1)).isTrue();
        }
        assertThat(few).isBetween(160, 240);
        assertThat(more).isBetween(540, 660);
    }

    @Test
    void theSameSeedAndFunnelGiveTheSameRecordsAnotherSeedOthers() {
        GeneratorConfig c =
                GeneratorConfig.defaults(100, 5000, 3).withFunnel(funnel(0.6, 0.5, 0.4, 0.5, 0.3));
        assertThat(generate(c)).isEqualTo(generate(c));
        GeneratorConfig otherSeed =
                new GeneratorConfig(
                                c.items(),
                                c.categories(),
                                c.users(),
                                c.events(),
                                4,
                                c.catalogSeed(),
                                c.startMs(),
                                c.meanGapMs(),
                                c.malformedFraction())
                        .withFunnel(c.funnel());
        assertThat(generate(otherSeed)).isNotEqualTo(generate(c));
    }

    /**
     * Per how far the user went with an item (its last event's type), the share of next items that
     * are the series' next episode, among items that have one; [4] over all items.
     */
    private static double[] nextEpisodeShareByLastType(List<GeneratedRecord> records) {
        SyntheticBehaviorGenerator.Catalog catalog =
                new SyntheticBehaviorGenerator.Catalog(
                        GeneratorConfig.DEFAULT_ITEMS,
                        GeneratorConfig.DEFAULT_CATEGORIES,
                        GeneratorConfig.DEFAULT_CATALOG_SEED);
        long[] steps = new long[5];
        long[] next = new long[5];
        for (List<InputEvent> evs : byUser(records).values()) {
            for (int i = 0; i + 1 < evs.size(); i++) {
                InputEvent e = evs.get(i);
                InputEvent following = evs.get(i + 1);
                int item = Integer.parseInt(e.itemId().substring(5));
                // The end of a funnel, then a fresh item (a view): a return is no choice of the
                // next item, and the user browses on from the item before it.
                if (following.itemId().equals(e.itemId())
                        || following.type() != EventType.VIEW
                        || straightPurchase(evs, i)
                        || item + 1 >= catalog.seriesEnd[catalog.seriesOfItem[item]]) {
                    continue;
                }
                boolean isNext = Integer.parseInt(following.itemId().substring(5)) == item + 1;
                for (int k : new int[] {e.type().ordinal(), 4}) {
                    steps[k]++;
                    next[k] += isNext ? 1 : 0;
                }
            }
        }
        double[] share = new double[5];
        for (int k = 0; k < 5; k++) {
            share[k] = steps[k] == 0 ? 0 : (double) next[k] / steps[k];
        }
        return share;
    }

    @Test
    void afterAPurchaseTheNextEpisodeIsLikelierThanAfterAGlance() {
        double[] share =
                nextEpisodeShareByLastType(generate(GeneratorConfig.defaults(2000, 300_000, 12)));
        double afterView = share[EventType.VIEW.ordinal()];
        double afterPurchase = share[EventType.PURCHASE.ordinal()];
        assertThat(afterPurchase).isGreaterThan(afterView + 0.1);
        // A little above the odds of the choice (0.70, 0.90): a user who moves on to the item
        // they are on (a popular series' first episode, again) is left out of the count.
        assertThat(afterView).isCloseTo(0.70, within(0.03));
        assertThat(afterPurchase).isCloseTo(0.90, within(0.03));
        // Over all items about what the shipped model was trained on (0.75 before the funnel
        // steered the choice).
        assertThat(share[4]).isCloseTo(0.75, within(0.02));
    }

    @Test
    void funnelRatesOutsideZeroToOneAreRefusedByName() {
        String[] names = {
            "view-to-click",
            "click-to-cart",
            "cart-to-purchase",
            "cart-return-rate",
            "consumable-share"
        };
        for (int k = 0; k < names.length; k++) {
            for (double bad : new double[] {-0.01, 1.01, Double.NaN}) {
                double[] rates = {0.4, 0.35, 0.5, 0.3, 0.1};
                rates[k] = bad;
                assertThatThrownBy(() -> funnel(rates[0], rates[1], rates[2], rates[3], rates[4]))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageStartingWith(names[k] + " must be a rate between 0 and 1");
            }
        }
        assertThat(funnel(0, 0, 0, 0, 0).viewToClick()).isZero();
        assertThat(funnel(1, 1, 1, 1, 1).consumableShare()).isOne();
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
