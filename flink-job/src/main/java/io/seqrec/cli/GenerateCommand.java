package io.seqrec.cli;

import static io.seqrec.config.Values.intInRange;
import static io.seqrec.config.Values.longInRange;
import static io.seqrec.config.Values.nonEmpty;

import io.seqrec.config.Option;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code seqrec generate}: synthetic events as JSON lines (the shipped model's training data). */
final class GenerateCommand {
    private GenerateCommand() {}

    static final Option<Path> OUT =
            new Option<>(
                    "out",
                    null,
                    "FILE",
                    "Where to write the JSON lines.",
                    s -> Path.of(nonEmpty().apply(s)));
    static final Option<Integer> USERS = SharedOptions.users("5000", "Synthetic users.");
    static final Option<Long> EVENTS = SharedOptions.events("300000", 0, "Events to write.");
    // The generator's catalog and seeds, shared with `produce --source synthetic`.
    static final Option<Long> SEED = SharedOptions.seed("1");
    static final Option<Integer> ITEMS =
            new Option<>(
                    "items",
                    Integer.toString(GeneratorConfig.DEFAULT_ITEMS),
                    "N",
                    "Items in the synthetic catalog.",
                    intInRange(10, Integer.MAX_VALUE));
    static final Option<Integer> CATEGORIES =
            new Option<>(
                    "categories",
                    Integer.toString(GeneratorConfig.DEFAULT_CATEGORIES),
                    "N",
                    "Categories of the synthetic catalog.",
                    intInRange(1, Integer.MAX_VALUE));
    static final Option<Long> CATALOG_SEED =
            new Option<>(
                    "catalog-seed",
                    Long.toString(GeneratorConfig.DEFAULT_CATALOG_SEED),
                    "S",
                    "Seed of the catalog (the shipped model knows the default catalog).",
                    longInRange(Long.MIN_VALUE, Long.MAX_VALUE));
    static final Option<Double> MALFORMED = SharedOptions.malformedFraction("0");

    static final Command COMMAND =
            new Command(
                    "generate",
                    "synthetic events as JSON lines",
                    List.of(OUT, USERS, EVENTS, SEED, ITEMS, CATEGORIES, CATALOG_SEED, MALFORMED),
                    false,
                    GenerateCommand::run);

    static int run(Flags f) throws Exception {
        Path out = f.required(OUT);
        GeneratorConfig config =
                generatorConfig(f, f.get(USERS), f.get(EVENTS), GeneratorConfig.DEFAULT_START_MS);
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        long n = 0;
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            SyntheticBehaviorGenerator g = new SyntheticBehaviorGenerator(config);
            while (g.hasNext()) {
                GeneratedRecord r = g.next();
                w.write(r.value());
                w.write('\n');
                n++;
            }
        }
        System.out.println("wrote " + n + " events of " + config.users() + " users to " + out);
        return 0;
    }

    /** The generator's configuration from the catalog options (which {@code f} must have). */
    static GeneratorConfig generatorConfig(Flags f, int users, long events, long startMs) {
        try {
            return new GeneratorConfig(
                    f.get(ITEMS),
                    f.get(CATEGORIES),
                    users,
                    events,
                    f.get(SEED),
                    f.get(CATALOG_SEED),
                    startMs,
                    10.0,
                    f.get(MALFORMED));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
