package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.seqrec.TestPaths;
import io.seqrec.config.ConfigException;
import io.seqrec.config.JobOptions;
import io.seqrec.config.Option;
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
            Map.of(
                    "HOST:PORT", "127.0.0.1:9092",
                    "FILE", "/tmp/some-file",
                    "DIR", "/tmp/some-dir",
                    "DURATION", "10s",
                    "N", "3",
                    "U", "7",
                    "EPS", "100",
                    "PATH", "file:///tmp/savepoint",
                    "synthetic|FILE", "synthetic");

    @Test
    void everyOptionInHelpParsesWithItsDefaultOrASampleValue() {
        for (Command c : Main.COMMANDS) {
            List<String> shown = flagsInHelp(c.name());
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
        Pattern line = Pattern.compile("\\./seqrec ([a-z]+)((?: --[a-z-]+(?:[ =][^ `#\\\\]+)?)*)");
        int checked = 0;
        for (Path doc : docs) {
            for (String text : Files.readAllLines(doc)) {
                Matcher m = line.matcher(text);
                while (m.find()) {
                    List<String> command = new ArrayList<>(List.of(m.group(1)));
                    command.addAll(
                            Arrays.stream(m.group(2).trim().split("[ =]"))
                                    .filter(s -> !s.isEmpty())
                                    .toList());
                    if (command.size() % 2 == 0) {
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

    /** The flags {@code --help} lists under a command. */
    private static List<String> flagsInHelp(String command) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String line : Main.USAGE.split("\n")) {
            Matcher head = Pattern.compile("^  ([a-z]+)\\s").matcher(line);
            if (head.find()) {
                in = head.group(1).equals(command);
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
