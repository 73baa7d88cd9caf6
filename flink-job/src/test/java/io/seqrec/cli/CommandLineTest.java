package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.seqrec.TestPaths;
import io.seqrec.config.ConfigException;
import io.seqrec.config.JobOptions;
import io.seqrec.config.Option;
import io.seqrec.generator.GeneratorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every command's flags are declared once ({@link Command}); {@code --help} is generated from the
 * declarations, and every flag that {@code --help}, the README or the docs show parses.
 */
class CommandLineTest {
    /** A value of the right form for an option without a default, by its value hint. */
    private static final Map<String, String> SAMPLES =
            Map.ofEntries(
                    Map.entry("HOST:PORT", "127.0.0.1:9092"),
                    Map.entry("FILE", "/tmp/some-file"),
                    Map.entry("DIR", "/tmp/some-dir"),
                    Map.entry("DURATION", "10s"),
                    Map.entry("N", "3"),
                    Map.entry("U", "7"),
                    Map.entry("EPS", "100"),
                    Map.entry("PATH", "file:///tmp/savepoint"),
                    Map.entry("synthetic|FILE", "synthetic"),
                    Map.entry("URI", "file:///tmp/registry"),
                    Map.entry("V", "v1"),
                    Map.entry("P", "10"),
                    Map.entry("MS", "1767225600000"),
                    Map.entry("MARGIN", "0.02"));

    @Test
    void everyOptionInHelpParsesWithItsDefaultOrASampleValue() {
        for (Command c : Main.COMMANDS) {
            List<String> shown = flagsInHelp(c);
            assertThat(shown)
                    .as("--help lists exactly the options of " + c.name())
                    .containsExactlyElementsOf(
                            c.options().stream().map(o -> "--" + o.name()).toList());
            for (Option<?> o : c.options()) {
                String value =
                        o.defaultValue() != null ? o.defaultValue() : SAMPLES.get(o.valueHint());
                assertThat(value).as("a sample for " + o.valueHint()).isNotNull();
                Flags f = new Flags(c, new String[] {"--" + o.name(), value});
                assertThat(f.given(o)).isTrue();
                assertThat(f.get(o)).as(c.name() + " --" + o.name() + " " + value).isNotNull();
            }
        }
        for (Option<?> o : JobOptions.ALL) {
            assertThat(Main.USAGE).contains("--" + o.name() + " " + o.valueHint());
        }
    }

    @Test
    void everySeqrecCommandLineInTheDocsIsAccepted() throws Exception {
        List<Path> docs = new ArrayList<>(List.of(TestPaths.repoRoot().resolve("README.md")));
        try (Stream<Path> files = Files.list(TestPaths.repoRoot().resolve("docs"))) {
            files.filter(p -> p.toString().endsWith(".md")).forEach(docs::add);
        }
        docs.add(TestPaths.repoRoot().resolve("k8s/README.md"));
        docs.add(TestPaths.repoRoot().resolve("docker/README.md"));
        Pattern line =
                Pattern.compile("\\./seqrec ([a-z][a-z-]*(?: [a-z][a-z-]*)*(?: [^ `#\\\\]+)*)");
        int checked = 0;
        for (Path doc : docs) {
            for (String text : Files.readAllLines(doc)) {
                Matcher m = line.matcher(text);
                while (m.find()) {
                    List<String> command = commandLine(m.group(1).trim().split(" +"));
                    if (command == null) {
                        continue; // a flag whose value is on the next line or elided
                    }
                    CliContract.assertAccepted(command);
                    checked++;
                }
            }
        }
        assertThat(checked).as("command lines found in the docs").isGreaterThan(20);
    }

    @Test
    void aFlagGivenTwiceIsRefusedForCommandsAndJobOptionsAlike() {
        assertThatThrownBy(
                        () ->
                                new Flags(
                                        DemoCommand.COMMAND,
                                        new String[] {"--events", "5", "--events", "6"}))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--events given twice");
        assertThatThrownBy(
                        () ->
                                new Flags(
                                        DemoCommand.COMMAND,
                                        new String[] {"--top-k", "5", "--top-k=6"}))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--top-k given twice");
    }

    @Test
    void unknownFlagsAndJobOptionsOfCommandsWithoutAJobAreRefusedByName() {
        assertThatThrownBy(() -> new Flags(DemoCommand.COMMAND, new String[] {"--evnts", "5"}))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("--evnts")
                .hasMessageContaining("demo");
        assertThatThrownBy(() -> new Flags(TailCommand.COMMAND, new String[] {"--top-k", "5"}))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("--top-k");
        Flags demo = new Flags(DemoCommand.COMMAND, new String[] {"--top-k", "5", "--rate", "0"});
        assertThat(demo.jobOptions()).containsExactly(Map.entry("top-k", "5"));
        assertThat(demo.get(DemoCommand.RATE)).isZero();
        assertThat(demo.get(DemoCommand.EVENTS)).isEqualTo(20_000L);
    }

    @Test
    void badValuesAreRefusedNamingTheFlag() {
        Flags f = new Flags(DemoCommand.COMMAND, new String[] {"--events", "many"});
        assertThatThrownBy(() -> f.get(DemoCommand.EVENTS))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("--events 'many': expected a whole number");
        assertThat(
                        Main.run(
                                new String[] {
                                    "tail", "--bootstrap-servers", "x:1", "--from", "middle"
                                }))
                .isEqualTo(2);
    }

    @Test
    void funnelRatesOutsideZeroToOneAreRefusedNamingTheFlag() {
        for (Command c :
                List.of(GenerateCommand.COMMAND, ProduceCommand.COMMAND, DemoCommand.COMMAND)) {
            for (Option<?> o : SharedOptions.FUNNEL) {
                for (String bad : List.of("-0.1", "1.5", "often")) {
                    Flags f = new Flags(c, new String[] {"--" + o.name(), bad});
                    assertThatThrownBy(() -> f.get(o))
                            .as(c.name() + " --" + o.name() + " " + bad)
                            .isInstanceOf(ConfigException.class)
                            .hasMessageStartingWith("--" + o.name() + " '" + bad + "': expected a");
                }
                Flags edge = new Flags(c, new String[] {"--" + o.name(), "1"});
                assertThat(edge.get(o)).isEqualTo(1.0);
            }
            Flags given =
                    new Flags(
                            c,
                            new String[] {
                                "--view-to-click", "0.6",
                                "--click-to-cart", "0.2",
                                "--cart-to-purchase", "0.9",
                                "--cart-return-rate", "0",
                                "--consumable-share", "0.25"
                            });
            assertThat(SharedOptions.funnel(given))
                    .isEqualTo(new GeneratorConfig.Funnel(0.6, 0.2, 0.9, 0, 0.25));
        }
        assertThat(SharedOptions.funnel(new Flags(GenerateCommand.COMMAND, new String[0])))
                .isEqualTo(GeneratorConfig.Funnel.DEFAULT);
    }

    @Test
    void theActionsOfModelsAreCommandsWithPositionalArgumentsBeforeTheirFlags() {
        Flags f =
                new Flags(
                        ModelsCommand.CANARY,
                        new String[] {"v2", "--percent", "10", "--registry", "/tmp/r"});
        assertThat(f.argument("VERSION")).isEqualTo("v2");
        assertThat(f.get(ModelsCommand.PERCENT)).isEqualTo(10);
        assertThatThrownBy(() -> new Flags(ModelsCommand.PROMOTE, new String[] {"v2"}))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unexpected argument 'v2'");
        Flags none = new Flags(ModelsCommand.CANARY, new String[] {"--percent", "10"});
        assertThatThrownBy(() -> none.argument("VERSION"))
                .isInstanceOf(UsageException.class)
                .hasMessage("models canary needs VERSION");
        assertThat(Main.command(new String[] {"models", "status", "--registry", "x"}))
                .isSameAs(ModelsCommand.STATUS);
        assertThat(Main.run(new String[] {"models"})).isEqualTo(2);
        assertThat(Main.run(new String[] {"models", "publsh", "--registry", "x"})).isEqualTo(2);
        assertThat(Main.USAGE).contains("\n  models canary VERSION  serve VERSION to --percent");
    }

    /**
     * A command line of the docs as {@link CliContract} takes it: the command's name, its
     * positional arguments and its flags with their values, up to the first word that is none of
     * these; {@code null} if a flag's value is on the next line or elided.
     */
    private static List<String> commandLine(String[] words) {
        Command c = Main.command(words);
        int i = c == null ? 1 : c.words().size();
        List<String> out = new ArrayList<>(Arrays.asList(words).subList(0, i));
        for (int a = 0; c != null && a < c.arguments().size() && i < words.length; a++) {
            if (!words[i].startsWith("--")) {
                out.add(words[i++]);
            }
        }
        while (i < words.length && words[i].matches("--[a-z-]+(=.+)?")) {
            String[] flag = words[i++].split("=", 2);
            out.add(flag[0]);
            if (flag.length == 2) {
                out.add(flag[1]);
            } else if (i < words.length && !words[i].startsWith("--")) {
                out.add(words[i++]);
            } else {
                return null;
            }
        }
        return out;
    }

    /** The flags {@code --help} lists under a command. */
    private static List<String> flagsInHelp(Command command) {
        String head = command.usage().lines().findFirst().orElseThrow();
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String line : Main.USAGE.split("\n")) {
            if (line.matches("  [a-z].*")) {
                in = line.equals(head);
            } else if (!line.startsWith("      --")) {
                in = in && line.startsWith("      ");
            }
            if (in && line.startsWith("      --")) {
                out.add(line.trim().split(" ")[0]);
            }
        }
        return out;
    }
}
