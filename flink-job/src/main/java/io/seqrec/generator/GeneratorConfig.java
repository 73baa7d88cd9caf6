package io.seqrec.generator;

/**
 * Settings of the synthetic behavior generator. The catalog (items, categories, series, popularity)
 * depends only on {@code catalogSeed}, {@code items} and {@code categories}, so data generated with
 * different {@code seed}s (different users) share one item vocabulary: the shipped model, trained
 * on one seed, serves the demo's users drawn from another.
 *
 * @param items catalog size
 * @param categories number of categories
 * @param users number of distinct users
 * @param events number of records to produce (including malformed ones)
 * @param seed seed of users and their behavior
 * @param catalogSeed seed of the catalog
 * @param startMs event time of the first event
 * @param meanGapMs mean gap between consecutive events (of all users)
 * @param malformedFraction fraction of records replaced by malformed ones (0 for none)
 * @param newItemsPerMinute catalog drift: new items released per minute of event time (0 = a fixed
 *     catalog); see {@link SyntheticBehaviorGenerator}
 * @param driftHalfLifeMs with drift: every series' popularity halves every this long of event time
 * @param funnel how users go through an item's journey, and come back to items; see {@link Funnel}
 */
public record GeneratorConfig(
        int items,
        int categories,
        int users,
        long events,
        long seed,
        long catalogSeed,
        long startMs,
        double meanGapMs,
        double malformedFraction,
        double newItemsPerMinute,
        long driftHalfLifeMs,
        Funnel funnel) {

    public static final int DEFAULT_ITEMS = 2000;
    public static final int DEFAULT_CATEGORIES = 20;
    public static final long DEFAULT_CATALOG_SEED = 7;
    public static final long DEFAULT_DRIFT_HALF_LIFE_MS = 5 * 60_000L;

    /** 2026-01-01T00:00:00Z: a fixed start keeps generated files reproducible. */
    public static final long DEFAULT_START_MS = 1_767_225_600_000L;

    public GeneratorConfig {
        if (items < 10 || categories < 1 || categories > items || users < 1 || events < 0) {
            throw new IllegalArgumentException(
                    "need items >= 10, 1 <= categories <= items, users >= 1, events >= 0");
        }
        if (!(malformedFraction >= 0 && malformedFraction <= 1) || !(meanGapMs >= 0)) {
            throw new IllegalArgumentException(
                    "malformed fraction must be in [0, 1] and the mean gap >= 0");
        }
        if (!(newItemsPerMinute >= 0 && newItemsPerMinute <= 60_000)) {
            throw new IllegalArgumentException("new items per minute must be in [0, 60000]");
        }
        if (driftHalfLifeMs <= 0) {
            throw new IllegalArgumentException("the drift half-life must be positive");
        }
        if (funnel == null) {
            throw new IllegalArgumentException("a funnel is needed (Funnel.DEFAULT for the usual)");
        }
    }

    /**
     * The journey of an item: view, then click, cart and purchase, each step taken with its
     * conversion rate from the one before, else the user moves on to another item. A cart left
     * without a purchase is an abandoned cart; a share of them is bought later (the user comes back
     * a few items on, straight to the purchase). A purchased consumable is bought again a while
     * later. Which items are consumables depends on the catalog seed alone (and the share), so the
     * catalog stays the one the shipped model knows.
     *
     * @param viewToClick share of views followed by a click on the same item
     * @param clickToCart share of clicks followed by a cart
     * @param cartToPurchase share of carts followed by a purchase
     * @param cartReturnRate share of abandoned carts bought later
     * @param consumableShare share of the catalog's items that are consumables
     */
    public record Funnel(
            double viewToClick,
            double clickToCart,
            double cartToPurchase,
            double cartReturnRate,
            double consumableShare) {
        /**
         * Few returns by default: each is a step back to an item the user has seen, which a list
         * without seen items cannot hit, and it breaks the series the user was following. With 30 %
         * of abandoned carts bought later and 10 % consumables the demo's HR@10 of the shipped
         * model fell by 0.03 (20,000 events, seeds 42 and 7); with these, by 0.013.
         */
        public static final Funnel DEFAULT = new Funnel(0.4, 0.35, 0.5, 0.1, 0.05);

        public Funnel {
            requireShare("view-to-click", viewToClick);
            requireShare("click-to-cart", clickToCart);
            requireShare("cart-to-purchase", cartToPurchase);
            requireShare("cart-return-rate", cartReturnRate);
            requireShare("consumable-share", consumableShare);
        }

        private static void requireShare(String name, double value) {
            if (!(value >= 0 && value <= 1)) {
                throw new IllegalArgumentException(
                        name + " must be a rate between 0 and 1, not " + value);
            }
        }
    }

    /** A fixed catalog (no drift), the default funnel. */
    public GeneratorConfig(
            int items,
            int categories,
            int users,
            long events,
            long seed,
            long catalogSeed,
            long startMs,
            double meanGapMs,
            double malformedFraction) {
        this(
                items,
                categories,
                users,
                events,
                seed,
                catalogSeed,
                startMs,
                meanGapMs,
                malformedFraction,
                0,
                DEFAULT_DRIFT_HALF_LIFE_MS,
                Funnel.DEFAULT);
    }

    /**
     * The same with catalog drift: {@code perMinute} new items per minute of event time, every
     * series' popularity halving every {@code halfLifeMs}.
     */
    public GeneratorConfig withDrift(double perMinute, long halfLifeMs) {
        return new GeneratorConfig(
                items,
                categories,
                users,
                events,
                seed,
                catalogSeed,
                startMs,
                meanGapMs,
                malformedFraction,
                perMinute,
                halfLifeMs,
                funnel);
    }

    /** The same with a catalog of {@code size} items. */
    public GeneratorConfig withItems(int size) {
        return new GeneratorConfig(
                size,
                Math.min(categories, size),
                users,
                events,
                seed,
                catalogSeed,
                startMs,
                meanGapMs,
                malformedFraction,
                newItemsPerMinute,
                driftHalfLifeMs,
                funnel);
    }

    /** The same with another funnel. */
    public GeneratorConfig withFunnel(Funnel other) {
        return new GeneratorConfig(
                items,
                categories,
                users,
                events,
                seed,
                catalogSeed,
                startMs,
                meanGapMs,
                malformedFraction,
                newItemsPerMinute,
                driftHalfLifeMs,
                other);
    }

    public static GeneratorConfig defaults(int users, long events, long seed) {
        return new GeneratorConfig(
                DEFAULT_ITEMS,
                DEFAULT_CATEGORIES,
                users,
                events,
                seed,
                DEFAULT_CATALOG_SEED,
                DEFAULT_START_MS,
                10.0,
                0.0);
    }
}
