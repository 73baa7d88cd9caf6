package io.seqrec.generator;

import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Seeded synthetic behavior with the regularities a sequence model can learn and popularity cannot:
 *
 * <ul>
 *   <li>Items belong to categories and, within a category, to ordered <i>series</i> (episodes of a
 *       show, volumes of a set): after episode e, episode e+1 is by far the likeliest next item.
 *   <li>Series popularity is Zipf-distributed; users have a taste mixture over two to four
 *       categories and tend to stay in the category they are in.
 *   <li>Each item a user turns to goes through a funnel: view, then with falling probability click,
 *       cart, purchase (consecutive events on one item; the job and the trainer count them as one
 *       step of the sequence).
 *   <li>Users act interleaved in time, like a real platform's stream.
 * </ul>
 *
 * Records come as JSON lines in the input topic's format. Optionally a fraction of them is replaced
 * by malformed records of many kinds, to exercise the dead-letter path.
 */
public final class SyntheticBehaviorGenerator implements Iterator<GeneratedRecord> {
    private static final double P_NEXT_EPISODE = 0.75;
    private static final double P_SAME_CATEGORY = 0.6;
    private static final double P_CLICK = 0.4;
    private static final double P_CART = 0.35;
    private static final double P_PURCHASE = 0.5;

    private final GeneratorConfig config;
    private final Catalog catalog;
    private final SplittableRandom random;
    private final UserSim[] users;
    private final boolean everyUserOnceFirst;
    private long produced;
    private double clock;
    private long eventCounter;

    public SyntheticBehaviorGenerator(GeneratorConfig config) {
        this(config, false);
    }

    /**
     * @param everyUserOnceFirst the first {@code users} well-formed events visit every user once
     *     (in a scrambled order), random users after that: a run of N events reaches N distinct
     *     users (soak runs); otherwise every event picks a user at random
     */
    public SyntheticBehaviorGenerator(GeneratorConfig config, boolean everyUserOnceFirst) {
        this.config = config;
        this.everyUserOnceFirst = everyUserOnceFirst;
        this.catalog = new Catalog(config.items(), config.categories(), config.catalogSeed());
        this.random = new SplittableRandom(config.seed());
        this.users = new UserSim[config.users()];
        this.clock = config.startMs();
    }

    /** External id of item {@code i} of the catalog (0-based). */
    public static String itemId(int i) {
        return String.format("item-%05d", i);
    }

    public static String userId(long seed, int u) {
        return "user-" + seed + "-" + u;
    }

    @Override
    public boolean hasNext() {
        return produced < config.events();
    }

    @Override
    public GeneratedRecord next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        produced++;
        clock +=
                config.meanGapMs() == 0
                        ? 0
                        : -config.meanGapMs() * Math.log(1 - random.nextDouble());
        long ts = (long) clock;
        if (config.malformedFraction() > 0 && random.nextDouble() < config.malformedFraction()) {
            return Malformed.record(random, ts, produced);
        }
        int u =
                everyUserOnceFirst && eventCounter < users.length
                        ? scrambled(eventCounter, users.length)
                        : random.nextInt(users.length);
        UserSim user = users[u];
        if (user == null) {
            user = users[u] = new UserSim(userId(config.seed(), u), catalog, random);
        }
        EventType type = user.nextEvent(random);
        String eventId = "ev-" + config.seed() + "-" + (eventCounter++);
        InputEvent event = new InputEvent(eventId, user.id, itemId(user.currentItem), type, ts);
        return new GeneratedRecord(user.id, EventCodec.toJson(event), event);
    }

    /** A permutation of 0..n-1: i times a large prime coprime to n, modulo n. */
    private static int scrambled(long i, int n) {
        long step = 1_000_003L;
        while (gcd(step, n) != 1) {
            step += 2;
        }
        return (int) ((i * step) % n);
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** The catalog: category and series of every item, and popularity. */
    static final class Catalog {
        final int[] categoryOf;
        final int[] seriesStart;
        final int[] seriesEnd;
        final int[] seriesOfItem;

        /** Per category: its series (ids), and cumulative Zipf weights for picking one. */
        final int[][] seriesByCategory;

        final double[][] cumulativeByCategory;

        Catalog(int items, int categories, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            categoryOf = new int[items];
            seriesOfItem = new int[items];
            int[] starts = new int[items];
            int[] ends = new int[items];
            int[] seriesCategory = new int[items];
            int series = 0;
            int i = 0;
            // Items are laid out category by category, cut into series of 1..12 episodes.
            int perCategory = items / categories;
            for (int c = 0; c < categories; c++) {
                int end = c == categories - 1 ? items : i + perCategory;
                while (i < end) {
                    int len = Math.min(end - i, 1 + r.nextInt(12));
                    starts[series] = i;
                    ends[series] = i + len;
                    seriesCategory[series] = c;
                    for (int k = i; k < i + len; k++) {
                        categoryOf[k] = c;
                        seriesOfItem[k] = series;
                    }
                    i += len;
                    series++;
                }
            }
            seriesStart = Arrays.copyOf(starts, series);
            seriesEnd = Arrays.copyOf(ends, series);
            // Zipf over a random permutation of series: popularity is unrelated to position.
            int[] rank = new int[series];
            for (int s = 0; s < series; s++) {
                rank[s] = s;
            }
            for (int s = series - 1; s > 0; s--) {
                int j = r.nextInt(s + 1);
                int t = rank[s];
                rank[s] = rank[j];
                rank[j] = t;
            }
            seriesByCategory = new int[categories][];
            cumulativeByCategory = new double[categories][];
            for (int c = 0; c < categories; c++) {
                int count = 0;
                for (int s = 0; s < series; s++) {
                    if (seriesCategory[s] == c) {
                        count++;
                    }
                }
                int[] list = new int[count];
                double[] cum = new double[count];
                double total = 0;
                int k = 0;
                for (int s = 0; s < series; s++) {
                    if (seriesCategory[s] == c) {
                        list[k] = s;
                        total += 1.0 / (1 + rank[s]);
                        cum[k] = total;
                        k++;
                    }
                }
                seriesByCategory[c] = list;
                cumulativeByCategory[c] = cum;
            }
        }

        int categories() {
            return seriesByCategory.length;
        }

        /** A popular series of category {@code c}: Zipf-weighted. */
        int pickSeries(int c, SplittableRandom r) {
            double[] cum = cumulativeByCategory[c];
            double x = r.nextDouble() * cum[cum.length - 1];
            int lo = 0;
            int hi = cum.length - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cum[mid] < x) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return seriesByCategory[c][lo];
        }
    }

    /** One simulated user: taste, where they are in the catalog, where they are in the funnel. */
    static final class UserSim {
        final String id;
        final Catalog catalog;
        final int[] tasteCategories;
        final double[] tasteCumulative;
        int currentItem = -1;

        /** 0 = next event starts a new item; 1 viewed; 2 clicked; 3 carted. */
        int funnel;

        UserSim(String id, Catalog catalog, SplittableRandom r) {
            this.id = id;
            this.catalog = catalog;
            int n = Math.min(catalog.categories(), 2 + r.nextInt(3));
            tasteCategories = new int[n];
            tasteCumulative = new double[n];
            double total = 0;
            for (int k = 0; k < n; k++) {
                tasteCategories[k] = r.nextInt(catalog.categories());
                total += -Math.log(1 - r.nextDouble());
                tasteCumulative[k] = total;
            }
            for (int k = 0; k < n; k++) {
                tasteCumulative[k] /= total;
            }
        }

        /**
         * Advances the user by one event and returns its type; {@link #currentItem} is its item.
         */
        EventType nextEvent(SplittableRandom r) {
            if (funnel == 1 && r.nextDouble() < P_CLICK) {
                funnel = 2;
                return EventType.CLICK;
            }
            if (funnel == 2 && r.nextDouble() < P_CART) {
                funnel = 3;
                return EventType.CART;
            }
            if (funnel == 3 && r.nextDouble() < P_PURCHASE) {
                funnel = 0;
                return EventType.PURCHASE;
            }
            currentItem = nextItem(r);
            funnel = 1;
            return EventType.VIEW;
        }

        private int nextItem(SplittableRandom r) {
            if (currentItem >= 0) {
                int s = catalog.seriesOfItem[currentItem];
                if (currentItem + 1 < catalog.seriesEnd[s] && r.nextDouble() < P_NEXT_EPISODE) {
                    return currentItem + 1;
                }
                if (r.nextDouble() < P_SAME_CATEGORY) {
                    return catalog.seriesStart[
                            catalog.pickSeries(catalog.categoryOf[currentItem], r)];
                }
            }
            double x = r.nextDouble();
            int k = 0;
            while (k < tasteCumulative.length - 1 && tasteCumulative[k] < x) {
                k++;
            }
            return catalog.seriesStart[catalog.pickSeries(tasteCategories[k], r)];
        }
    }
}
