package io.seqrec.cli;

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
    static final Command COMMAND =
            new Command(
                    "generate",
                    "synthetic events as JSON lines",
                    SharedOptions.concat(List.of(OUT, USERS, EVENTS), SharedOptions.GENERATOR),
                    false,
                    GenerateCommand::run);

    static int run(Flags f) throws Exception {
        Path out = f.required(OUT);
        GeneratorConfig config =
                SharedOptions.generatorConfig(
                        f, f.get(USERS), f.get(EVENTS), GeneratorConfig.DEFAULT_START_MS);
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
}
