package io.seqrec.generator;

import io.seqrec.event.EventCodec;
import io.seqrec.event.EventType;
import io.seqrec.event.InputEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
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
 * <p>With {@link GeneratorConfig#newItemsPerMinute} the catalog drifts ({@link Catalog}): new items
 * appear over event time and become popular while the older ones fade, so a model trained before
 * goes stale and more and more events are on items it does not know.
 *
 * <p>Records come as JSON lines in the input topic's format. Optionally a fraction of them is
 * replaced by malformed records of many kinds, to exercise the dead-letter path.
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
        this.catalog =
                new Catalog(
                        config.items(),
                        config.categories(),
                        config.catalogSeed(),
                        config.newItemsPerMinute(),
                        config.driftHalfLifeMs(),
                        config.startMs());
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
        catalog.releaseUntil(ts);
        EventType type = user.nextEvent(random, ts);
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

    /**
     * The catalog: category and series of every item, and popularity. With drift, new series are
     * released over event time (item ids after the base catalog's, their episodes one release at a
     * time), each as popular at its release as the base catalog's most popular series, and every
     * weight, the base catalog's included, halves every {@link GeneratorConfig#driftHalfLifeMs}:
     * the newest series lead and the old ones fade.
     */
    static final class Catalog {
        private static final int MAX_NEW_SERIES_LENGTH = 6;

        /** A released series weighs less than this share of the base catalog's top: dropped. */
        private static final double FORGOTTEN = 1e-9;

        int[] categoryOf;
        int[] seriesOfItem;
        int[] seriesStart;
        int[] seriesEnd;
        int items;
        int series;

        /** Per category: the base catalog's series (ids), and cumulative Zipf weights. */
        final int[][] seriesByCategory;

        final double[][] cumulativeByCategory;

        /** Drift: released series by category, oldest first, and their release times. */
        private final List<List<Integer>> releasedByCategory = new ArrayList<>();

        private long[] releasedAt;
        private final double releasePeriodMs;
        private final long halfLifeMs;
        private final long startMs;
        private final SplittableRandom driftRandom;
        private double nextReleaseMs;
        private int openSeries = -1;
        private int openSeriesCategory;
        private int openSeriesLength;

        Catalog(int items, int categories, long seed) {
            this(items, categories, seed, 0, 1, 0);
        }

        Catalog(
                int items,
                int categories,
                long seed,
                double newItemsPerMinute,
                long halfLifeMs,
                long startMs) {
            SplittableRandom r = new SplittableRandom(seed);
            categoryOf = new int[items];
            seriesOfItem = new int[items];
            int[] starts = new int[items];
            int[] ends = new int[items];
            int[] seriesCategory = new int[items];
            int count = 0;
            int i = 0;
            // Items are laid out category by category, cut into series of 1..12 episodes.
            int perCategory = items / categories;
            for (int c = 0; c < categories; c++) {
                int end = c == categories - 1 ? items : i + perCategory;
                while (i < end) {
                    int len = Math.min(end - i, 1 + r.nextInt(12));
                    starts[count] = i;
                    ends[count] = i + len;
                    seriesCategory[count] = c;
                    for (int k = i; k < i + len; k++) {
                        categoryOf[k] = c;
                        seriesOfItem[k] = count;
                    }
                    i += len;
                    count++;
                }
            }
            this.items = items;
            this.series = count;
            seriesStart = Arrays.copyOf(starts, count);
            seriesEnd = Arrays.copyOf(ends, count);
            releasedAt = new long[count];
            // Zipf over a random permutation of series: popularity is unrelated to position.
            int[] rank = new int[count];
            for (int s = 0; s < count; s++) {
                rank[s] = s;
            }
            for (int s = count - 1; s > 0; s--) {
                int j = r.nextInt(s + 1);
                int t = rank[s];
                rank[s] = rank[j];
                rank[j] = t;
            }
            seriesByCategory = new int[categories][];
            cumulativeByCategory = new double[categories][];
            for (int c = 0; c < categories; c++) {
                int inCategory = 0;
                for (int s = 0; s < count; s++) {
                    if (seriesCategory[s] == c) {
                        inCategory++;
                    }
                }
                int[] list = new int[inCategory];
                double[] cum = new double[inCategory];
                double total = 0;
                int k = 0;
                for (int s = 0; s < count; s++) {
                    if (seriesCategory[s] == c) {
                        list[k] = s;
                        total += 1.0 / (1 + rank[s]);
                        cum[k] = total;
                        k++;
                    }
                }
                seriesByCategory[c] = list;
                cumulativeByCategory[c] = cum;
                releasedByCategory.add(new ArrayList<>());
            }
            this.startMs = startMs;
            this.halfLifeMs = halfLifeMs;
            this.releasePeriodMs = newItemsPerMinute > 0 ? 60_000.0 / newItemsPerMinute : 0;
            this.nextReleaseMs = startMs + releasePeriodMs;
            // Its own stream: the released catalog is the same whatever the users' seed.
            this.driftRandom = new SplittableRandom(seed * 31 + 17);
        }

        int categories() {
            return seriesByCategory.length;
        }

        /** Releases the items due by event time {@code nowMs}. */
        void releaseUntil(long nowMs) {
            while (releasePeriodMs > 0 && nextReleaseMs <= nowMs) {
                release((long) nextReleaseMs);
                nextReleaseMs += releasePeriodMs;
            }
        }

        private void release(long at) {
            int item = items++;
            if (item == categoryOf.length) {
                categoryOf = Arrays.copyOf(categoryOf, 2 * item);
                seriesOfItem = Arrays.copyOf(seriesOfItem, 2 * item);
            }
            if (openSeries >= 0
                    && openSeriesLength > seriesEnd[openSeries] - seriesStart[openSeries]) {
                seriesEnd[openSeries] = item + 1; // the open series' next episode
            } else {
                openSeries = series++;
                if (openSeries == seriesStart.length) {
                    seriesStart = Arrays.copyOf(seriesStart, 2 * openSeries);
                    seriesEnd = Arrays.copyOf(seriesEnd, 2 * openSeries);
                    releasedAt = Arrays.copyOf(releasedAt, 2 * openSeries);
                }
                openSeriesLength = 1 + driftRandom.nextInt(MAX_NEW_SERIES_LENGTH);
                seriesStart[openSeries] = item;
                seriesEnd[openSeries] = item + 1;
                releasedAt[openSeries] = at;
                openSeriesCategory = driftRandom.nextInt(categories());
                releasedByCategory.get(openSeriesCategory).add(openSeries);
            }
            categoryOf[item] = openSeriesCategory;
            seriesOfItem[item] = openSeries;
        }

        /** A popular series of category {@code c} at event time {@code nowMs}. */
        int pickSeries(int c, SplittableRandom r, long nowMs) {
            double[] cum = cumulativeByCategory[c];
            List<Integer> released = releasedByCategory.get(c);
            if (released.isEmpty()) {
                return pickBase(c, r.nextDouble() * cum[cum.length - 1]);
            }
            // Weights relative to now: the base catalog's and each released series' fade alike.
            double base = cum[cum.length - 1] * fade(startMs, nowMs);
            while (!released.isEmpty() && fade(releasedAt[released.get(0)], nowMs) < FORGOTTEN) {
                released.remove(0);
            }
            double total = base;
            for (int s : released) {
                total += fade(releasedAt[s], nowMs);
            }
            double x = r.nextDouble() * total;
            if (x < base) {
                return pickBase(c, x / base * cum[cum.length - 1]);
            }
            x -= base;
            for (int s : released) {
                x -= fade(releasedAt[s], nowMs);
                if (x < 0) {
                    return s;
                }
            }
            return released.get(released.size() - 1); // rounding
        }

        private double fade(long fromMs, long nowMs) {
            return Math.pow(2, -(double) Math.max(0, nowMs - fromMs) / halfLifeMs);
        }

        private int pickBase(int c, double x) {
            double[] cum = cumulativeByCategory[c];
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
        EventType nextEvent(SplittableRandom r, long nowMs) {
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
            currentItem = nextItem(r, nowMs);
            funnel = 1;
            return EventType.VIEW;
        }

        private int nextItem(SplittableRandom r, long nowMs) {
            if (currentItem >= 0) {
                int s = catalog.seriesOfItem[currentItem];
                if (currentItem + 1 < catalog.seriesEnd[s] && r.nextDouble() < P_NEXT_EPISODE) {
                    return currentItem + 1;
                }
                if (r.nextDouble() < P_SAME_CATEGORY) {
                    return catalog.seriesStart[
                            catalog.pickSeries(catalog.categoryOf[currentItem], r, nowMs)];
                }
            }
            double x = r.nextDouble();
            int k = 0;
            while (k < tasteCumulative.length - 1 && tasteCumulative[k] < x) {
                k++;
            }
            return catalog.seriesStart[catalog.pickSeries(tasteCategories[k], r, nowMs)];
        }
    }
}
