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
        long driftHalfLifeMs) {

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
    }

    /** A fixed catalog (no drift). */
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
                DEFAULT_DRIFT_HALF_LIFE_MS);
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
                halfLifeMs);
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
