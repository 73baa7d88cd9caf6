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
 *   <li>Each item a user turns to goes through a funnel ({@link GeneratorConfig.Funnel}): view,
 *       then click, cart and purchase, each with its conversion rate (consecutive events on one
 *       item; the job and the trainer count them as one step of the sequence). How far the user
 *       went steers the next item: after a purchase the next episode of the series is likelier than
 *       after a glance, which more often leads to a substitute, another popular series of the
 *       category. Averaged over the default funnel, and returns aside, the item-to-item transitions
 *       are those of the generator before the funnel steered them (next episode about 0.75, same
 *       category about 0.6 of the rest), which the shipped model was trained on.
 *   <li>Some abandoned carts (a cart without a purchase) are bought later: a few items on, the user
 *       comes back straight to the purchase. A purchased consumable is bought again a while later,
 *       possibly again and again. After such a return the user browses on from where they were.
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

    /** The catalog index of an id made by {@link #itemId}. */
    public static int itemIndex(String itemId) {
        if (!itemId.startsWith("item-")) {
            throw new IllegalArgumentException("not a generated item id: " + itemId);
        }
        return Integer.parseInt(itemId.substring("item-".length()));
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
            user =
                    users[u] =
                            new UserSim(userId(config.seed(), u), catalog, config.funnel(), random);
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

        /** Salt of {@link #isConsumable}: the catalog seed. */
        private final long consumableSalt;

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
            consumableSalt = seed;
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

        /**
         * Whether {@code item} is a consumable when {@code share} of the items are: a hash of the
         * item and the catalog seed, not a draw from the catalog's random stream, so the catalog is
         * the same whatever the share, and the consumables of a smaller share are among those of a
         * larger one.
         */
        boolean isConsumable(int item, double share) {
            long h = (item + 1) * 0x9E3779B97F4A7C15L ^ consumableSalt;
            h = (h ^ (h >>> 33)) * 0xFF51AFD7ED558CCDL;
            h = (h ^ (h >>> 33)) * 0xC4CEB9FE1A85EC53L;
            h ^= h >>> 33;
            return (h >>> 11) * 0x1.0p-53 < share;
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
        /** How far the user went with the item they are on: index into the tables below. */
        private static final int VIEWED = 0;

        private static final int CLICKED = 1;
        private static final int CARTED = 2;
        private static final int PURCHASED = 3;

        /**
         * By how far the user went with an item: the chance that the next item is the series' next
         * episode (if there is one), else that it is a popular series of the same category (a
         * substitute), else one of the user's taste. With the default funnel 60 % of items end at a
         * view, 26 % at a click, 7 % at an abandoned cart and 7 % at a purchase, so the averages
         * are about 0.75 and 0.62: the transitions before the funnel steered them (0.75 and 0.6).
         */
        private static final double[] P_NEXT_EPISODE = {0.70, 0.80, 0.80, 0.90};

        private static final double[] P_SAME_CATEGORY = {0.65, 0.55, 0.55, 0.45};

        /** An abandoned cart is bought 2 to 10 new items later. */
        private static final int CART_RETURN_MIN = 2;

        private static final int CART_RETURN_MAX = 10;

        /**
         * A consumable is bought again 5 to 20 new items later, and then again with this chance.
         */
        private static final int REBUY_MIN = 5;

        private static final int REBUY_MAX = 20;
        private static final double P_REBUY_AGAIN = 0.5;

        /** Returns a user has scheduled at most; more are dropped (bounded memory per user). */
        private static final int MAX_PENDING = 4;

        final String id;
        final Catalog catalog;
        final GeneratorConfig.Funnel funnel;
        final int[] tasteCategories;
        final double[] tasteCumulative;

        /** The item of the last event. */
        int currentItem = -1;

        /** The item the user browses from, and how far they went with it (a return is neither). */
        private int browsingItem = -1;

        private int stage;

        /**
         * The last event was a return: the next one starts a new item from {@link #browsingItem}.
         */
        private boolean returned;

        /** Items to be bought later, and in how many new items (compacted, first come first). */
        private final int[] pendingItem = new int[MAX_PENDING];

        private final int[] pendingIn = new int[MAX_PENDING];
        private int pending;

        UserSim(String id, Catalog catalog, GeneratorConfig.Funnel funnel, SplittableRandom r) {
            this.id = id;
            this.catalog = catalog;
            this.funnel = funnel;
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
            if (!returned && browsingItem >= 0) {
                if (stage == VIEWED && r.nextDouble() < funnel.viewToClick()) {
                    stage = CLICKED;
                    return EventType.CLICK;
                }
                if (stage == CLICKED && r.nextDouble() < funnel.clickToCart()) {
                    stage = CARTED;
                    return EventType.CART;
                }
                if (stage == CARTED) {
                    if (r.nextDouble() < funnel.cartToPurchase()) {
                        stage = PURCHASED;
                        purchased(browsingItem, r);
                        return EventType.PURCHASE;
                    }
                    if (r.nextDouble() < funnel.cartReturnRate()) {
                        schedule(browsingItem, CART_RETURN_MIN, CART_RETURN_MAX, r);
                    }
                }
            }
            // A new item: one due to be bought, or the next one the user browses to.
            returned = false;
            int due = takeDue();
            if (due >= 0) {
                currentItem = due;
                returned = true;
                if (catalog.isConsumable(due, funnel.consumableShare())
                        && r.nextDouble() < P_REBUY_AGAIN) {
                    schedule(due, REBUY_MIN, REBUY_MAX, r);
                }
                return EventType.PURCHASE;
            }
            browsingItem = nextItem(r, nowMs);
            currentItem = browsingItem;
            stage = VIEWED;
            return EventType.VIEW;
        }

        /** A purchase in the funnel: no return to it as an abandoned cart; a consumable's rebuy. */
        private void purchased(int item, SplittableRandom r) {
            for (int k = 0; k < pending; k++) {
                if (pendingItem[k] == item) {
                    remove(k);
                    break;
                }
            }
            if (catalog.isConsumable(item, funnel.consumableShare())) {
                schedule(item, REBUY_MIN, REBUY_MAX, r);
            }
        }

        private void schedule(int item, int min, int max, SplittableRandom r) {
            for (int k = 0; k < pending; k++) {
                if (pendingItem[k] == item) {
                    return; // bought once, however often it was left in the cart
                }
            }
            if (pending < MAX_PENDING) {
                pendingItem[pending] = item;
                pendingIn[pending] = min + r.nextInt(max - min + 1);
                pending++;
            }
        }

        /** Counts one new item down for every scheduled return; the first due, or -1. */
        private int takeDue() {
            int due = -1;
            for (int k = 0; k < pending; k++) {
                pendingIn[k]--;
            }
            for (int k = 0; k < pending; k++) {
                if (pendingIn[k] <= 0) {
                    due = pendingItem[k];
                    remove(k);
                    break;
                }
            }
            return due;
        }

        private void remove(int k) {
            System.arraycopy(pendingItem, k + 1, pendingItem, k, pending - k - 1);
            System.arraycopy(pendingIn, k + 1, pendingIn, k, pending - k - 1);
            pending--;
        }

        private int nextItem(SplittableRandom r, long nowMs) {
            if (browsingItem >= 0) {
                int s = catalog.seriesOfItem[browsingItem];
                if (browsingItem + 1 < catalog.seriesEnd[s]
                        && r.nextDouble() < P_NEXT_EPISODE[stage]) {
                    return browsingItem + 1;
                }
                if (r.nextDouble() < P_SAME_CATEGORY[stage]) {
                    return catalog.seriesStart[
                            catalog.pickSeries(catalog.categoryOf[browsingItem], r, nowMs)];
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
