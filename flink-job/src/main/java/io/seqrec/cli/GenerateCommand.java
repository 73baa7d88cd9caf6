package io.seqrec.cli;

import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** {@code seqrec generate}: synthetic events as JSON lines (the shipped model's training data). */
final class GenerateCommand {
    private GenerateCommand() {}

    static int run(String[] args) throws Exception {
        Flags f =
                new Flags(
                        args,
                        Set.of(
                                "out",
                                "users",
                                "events",
                                "seed",
                                "items",
                                "categories",
                                "catalog-seed",
                                "malformed-fraction"));
        f.rejectRest();
        Path out = Path.of(f.required("out"));
        GeneratorConfig config =
                generatorConfig(f, 5000, 300_000, GeneratorConfig.DEFAULT_START_MS);
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

    static GeneratorConfig generatorConfig(Flags f, int users, long events, long startMs) {
        try {
            return new GeneratorConfig(
                    (int) f.longValue("items", GeneratorConfig.DEFAULT_ITEMS, 10),
                    (int) f.longValue("categories", GeneratorConfig.DEFAULT_CATEGORIES, 1),
                    (int) f.longValue("users", users, 1),
                    f.longValue("events", events, 0),
                    f.longValue("seed", 1, Long.MIN_VALUE),
                    f.longValue(
                            "catalog-seed", GeneratorConfig.DEFAULT_CATALOG_SEED, Long.MIN_VALUE),
                    startMs,
                    10.0,
                    f.doubleValue("malformed-fraction", 0.0, 0.0, 1.0));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
