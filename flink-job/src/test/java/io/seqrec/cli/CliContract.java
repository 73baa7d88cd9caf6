package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.seqrec.config.JobOptions;
import io.seqrec.config.Option;
import java.util.List;

/**
 * The command-line contract of {@code seqrec}, for tests that check command lines written elsewhere
 * (compose, Kubernetes Jobs, the docs) without running them: a command line is accepted if the
 * command's own parser takes its flags and each value parses.
 */
public final class CliContract {
    private CliContract() {}

    /** The exit status of {@code models promote --if-better} while nothing is decided. */
    public static final int UNDECIDED = ModelsCommand.UNDECIDED;

    /**
     * Asserts that {@code command} (command name first, then its positional arguments) names a
     * command, uses only its flags, each once and with a value, and that every value parses, except
     * placeholders that the deployment or the reader fills in ({@code $(VAR)}, {@code ${VAR}},
     * {@code DIR}, {@code …}).
     */
    public static void assertAccepted(List<String> command) {
        Command c = Main.command(command.toArray(String[]::new));
        assertThat(c).as("command " + String.join(" ", command)).isNotNull();
        List<String> rest = command.subList(c.words().size(), command.size());
        String[] args = rest.toArray(String[]::new);
        assertThatCode(() -> new Flags(c, args))
                .as(String.join(" ", command))
                .doesNotThrowAnyException();
        int flags = 0;
        while (flags < args.length && !args[flags].startsWith("--")) {
            flags++;
        }
        for (int i = flags; i + 1 < args.length; i += 2) {
            String value = args[i + 1];
            if (isPlaceholder(value)) {
                continue;
            }
            Option<?> option = option(c, args[i].substring(2));
            assertThatCode(() -> option.parse(value))
                    .as(String.join(" ", command))
                    .doesNotThrowAnyException();
        }
    }

    static Option<?> option(Command c, String name) {
        return c.options().stream()
                .filter(o -> o.name().equals(name))
                .findFirst()
                .orElseGet(() -> (Option) JobOptions.byName(name));
    }

    private static boolean isPlaceholder(String value) {
        return value.contains("$") || value.contains("…") || value.matches("[A-Z][A-Z_]*");
    }
}
