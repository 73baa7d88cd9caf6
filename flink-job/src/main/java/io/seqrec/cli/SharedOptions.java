package io.seqrec.cli;

import static io.seqrec.config.Values.doubleInRange;
import static io.seqrec.config.Values.intInRange;
import static io.seqrec.config.Values.longInRange;
import static io.seqrec.config.Values.nonEmpty;
import static io.seqrec.config.Values.oneOf;
import static io.seqrec.config.Values.positiveDuration;

import io.seqrec.config.ConfigException;
import io.seqrec.config.Option;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.ReplaySource;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * Options that several commands have, each command with its own default: one definition of the
 * name, the value's form and its check.
 */
final class SharedOptions {
    private SharedOptions() {}

    // The synthetic generator's catalog and seeds: `generate` and `produce --source synthetic`.
    static final Option<Long> GENERATOR_SEED = seed("1");
    static final Option<Integer> GENERATOR_ITEMS =
            new Option<>(
                    "items",
                    Integer.toString(GeneratorConfig.DEFAULT_ITEMS),
                    "N",
                    "Items in the synthetic catalog.",
                    intInRange(10, Integer.MAX_VALUE));
    static final Option<Integer> GENERATOR_CATEGORIES =
            new Option<>(
                    "categories",
                    Integer.toString(GeneratorConfig.DEFAULT_CATEGORIES),
                    "N",
                    "Categories of the synthetic catalog.",
                    intInRange(1, Integer.MAX_VALUE));
    static final Option<Long> GENERATOR_CATALOG_SEED =
            new Option<>(
                    "catalog-seed",
                    Long.toString(GeneratorConfig.DEFAULT_CATALOG_SEED),
                    "S",
                    "Seed of the catalog (the shipped model knows the default catalog).",
                    longInRange(Long.MIN_VALUE, Long.MAX_VALUE));
    static final Option<Double> GENERATOR_MALFORMED = malformedFraction("0");
    static final Option<Double> GENERATOR_NEW_ITEMS =
            new Option<>(
                    "new-items-per-minute",
                    "0",
                    "R",
                    "Catalog drift: new items released per minute of event time, popular at release"
                            + " while older items fade (0 = a fixed catalog).",
                    doubleInRange(0, 60_000));
    static final Option<Duration> GENERATOR_DRIFT_HALF_LIFE =
            new Option<>(
                    "drift-half-life",
                    "5m",
                    "DURATION",
                    "With drift: every series' popularity halves every this long of event time.",
                    positiveDuration());

    // The synthetic users' funnel: `generate`, `produce --source synthetic` and `demo`.
    static final Option<Double> FUNNEL_VIEW_TO_CLICK =
            share(
                    "view-to-click",
                    GeneratorConfig.Funnel.DEFAULT.viewToClick(),
                    "Synthetic funnel: share of views followed by a click on the item.");
    static final Option<Double> FUNNEL_CLICK_TO_CART =
            share(
                    "click-to-cart",
                    GeneratorConfig.Funnel.DEFAULT.clickToCart(),
                    "Synthetic funnel: share of clicks followed by a cart.");
    static final Option<Double> FUNNEL_CART_TO_PURCHASE =
            share(
                    "cart-to-purchase",
                    GeneratorConfig.Funnel.DEFAULT.cartToPurchase(),
                    "Synthetic funnel: share of carts followed by a purchase.");
    static final Option<Double> FUNNEL_CART_RETURN_RATE =
            share(
                    "cart-return-rate",
                    GeneratorConfig.Funnel.DEFAULT.cartReturnRate(),
                    "Synthetic funnel: share of abandoned carts (no purchase) whose user comes back"
                            + " 2-10 items later and buys the item.");
    static final Option<Double> FUNNEL_CONSUMABLE_SHARE =
            share(
                    "consumable-share",
                    GeneratorConfig.Funnel.DEFAULT.consumableShare(),
                    "Synthetic funnel: share of items that are consumables, bought again 5-20 items"
                            + " after a purchase.");

    /** The funnel's options {@link #funnel} reads. */
    static final List<Option<?>> FUNNEL =
            List.of(
                    FUNNEL_VIEW_TO_CLICK,
                    FUNNEL_CLICK_TO_CART,
                    FUNNEL_CART_TO_PURCHASE,
                    FUNNEL_CART_RETURN_RATE,
                    FUNNEL_CONSUMABLE_SHARE);

    /** The generator's options {@link #generatorConfig} reads. */
    static final List<Option<?>> GENERATOR =
            concat(
                    List.of(
                            GENERATOR_SEED,
                            GENERATOR_ITEMS,
                            GENERATOR_CATEGORIES,
                            GENERATOR_CATALOG_SEED,
                            GENERATOR_MALFORMED,
                            GENERATOR_NEW_ITEMS,
                            GENERATOR_DRIFT_HALF_LIFE),
                    FUNNEL);

    private static Option<Double> share(String name, double defaultValue, String what) {
        return new Option<>(name, Double.toString(defaultValue), "F", what, doubleInRange(0, 1));
    }

    /** The funnel of the {@link #FUNNEL} options (which {@code f} must have). */
    static GeneratorConfig.Funnel funnel(Flags f) {
        return new GeneratorConfig.Funnel(
                f.get(FUNNEL_VIEW_TO_CLICK),
                f.get(FUNNEL_CLICK_TO_CART),
                f.get(FUNNEL_CART_TO_PURCHASE),
                f.get(FUNNEL_CART_RETURN_RATE),
                f.get(FUNNEL_CONSUMABLE_SHARE));
    }

    /** {@code first}, then {@code then}: a command's own options around shared ones. */
    static List<Option<?>> concat(List<Option<?>> first, List<Option<?>> then) {
        List<Option<?>> all = new java.util.ArrayList<>(first);
        all.addAll(then);
        return List.copyOf(all);
    }

    /** The generator's configuration from the catalog options (which {@code f} must have). */
    static GeneratorConfig generatorConfig(Flags f, int users, long events, long startMs) {
        try {
            return new GeneratorConfig(
                            f.get(GENERATOR_ITEMS),
                            f.get(GENERATOR_CATEGORIES),
                            users,
                            events,
                            f.get(GENERATOR_SEED),
                            f.get(GENERATOR_CATALOG_SEED),
                            startMs,
                            10.0,
                            f.get(GENERATOR_MALFORMED))
                    .withDrift(
                            f.get(GENERATOR_NEW_ITEMS), f.get(GENERATOR_DRIFT_HALF_LIFE).toMillis())
                    .withFunnel(funnel(f));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    static Option<String> bootstrapServers() {
        return new Option<>(
                "bootstrap-servers", null, "HOST:PORT", "Kafka bootstrap servers.", nonEmpty());
    }

    static Option<Path> kafkaProperties() {
        return new Option<>(
                "kafka-properties",
                null,
                "FILE",
                "Java properties file of Kafka client settings (security etc.).",
                s -> Path.of(nonEmpty().apply(s)));
    }

    /** The client settings in {@code file} ({@code --kafka-properties}), or none. */
    static Properties clientProperties(Path file) {
        Properties props = new Properties();
        if (file != null) {
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                props.load(in);
            } catch (IOException e) {
                throw new ConfigException(
                        "--kafka-properties '" + file + "': cannot read: " + e.getMessage(), e);
            }
        }
        return props;
    }

    static Option<String> topic(String defaultTopic, String what) {
        return new Option<>("topic", defaultTopic, "TOPIC", what, nonEmpty());
    }

    static Option<Long> events(String defaultValue, long min, String what) {
        return new Option<>("events", defaultValue, "N", what, longInRange(min, Long.MAX_VALUE));
    }

    static Option<Integer> users(String defaultValue, String what) {
        return new Option<>("users", defaultValue, "U", what, intInRange(1, Integer.MAX_VALUE));
    }

    static Option<Long> seed(String defaultValue) {
        return new Option<>(
                "seed",
                defaultValue,
                "S",
                "Random seed.",
                longInRange(Long.MIN_VALUE, Long.MAX_VALUE));
    }

    static Option<Double> rate(String defaultValue, String what) {
        return new Option<>("rate", defaultValue, "EPS", what, doubleInRange(0, 1e9));
    }

    static Option<Double> malformedFraction(String defaultValue) {
        return new Option<>(
                "malformed-fraction",
                defaultValue,
                "F",
                "Share of records replaced by malformed ones (for the dead-letter path).",
                doubleInRange(0, 1));
    }

    /** The events a measuring command replays: a file, or the synthetic generator. */
    static Option<String> replaySource(String defaultValue, String what) {
        return new Option<>("source", defaultValue, "synthetic|FILE", what, nonEmpty());
    }

    /** The replay file's format, shared by the commands that take {@link #replaySource}. */
    static final Option<ReplaySource.Format> REPLAY_FORMAT =
            new Option<>(
                    "format",
                    "ml-1m",
                    "ml-1m|movielens-csv|pairs",
                    "Format of a --source file.",
                    oneOf(ReplaySource.Format.class));

    static final Option<Integer> REPLAY_USERS =
            users(null, "Replayed users active at a time (200), or synthetic users (500).");
}
