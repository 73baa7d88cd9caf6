package io.seqrec.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command-line contract of the {@code produce} and {@code tail} commands as {@code seqrec
 * --help} documents it, for tests that check command lines written elsewhere (compose, Kubernetes
 * Jobs) without running them.
 */
public final class CliContract {
    private CliContract() {}

    /**
     * Asserts that {@code command} (command name first) uses only documented flags, each with a
     * value.
     */
    public static void assertAccepted(List<String> command) {
        String name = command.get(0);
        List<String> documented = flags(name);
        assertThat(documented).as("flags of " + name).isNotEmpty();
        List<String> args = command.subList(1, command.size());
        for (int i = 0; i < args.size(); i += 2) {
            assertThat(args.get(i)).as(name + " argument " + i).startsWith("--");
            assertThat(documented).as(name + " flags").contains(args.get(i));
            assertThat(i + 1).as(args.get(i) + " needs a value").isLessThan(args.size());
            assertThat(args.get(i + 1)).doesNotStartWith("--");
        }
    }

    /** The flags the usage text lists for a command. */
    static List<String> flags(String command) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String line : Main.USAGE.split("\n")) {
            Matcher head = Pattern.compile("^  ([a-z]+)\\s").matcher(line);
            if (head.find()) {
                in = head.group(1).equals(command);
            } else if (!line.startsWith("    ")) {
                in = false;
            }
            if (in) {
                Matcher flag = Pattern.compile("--[a-z-]+").matcher(line);
                while (flag.find()) {
                    out.add(flag.group());
                }
            }
        }
        return out;
    }
}
