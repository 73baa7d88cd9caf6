package io.seqrec.cli;

import io.seqrec.config.Option;
import java.util.List;

/**
 * One {@code seqrec} command, declared once: its name (one word, or two for the actions of a group
 * such as {@code models publish}), the positional arguments it takes before its flags, what it
 * does, its own options (parsed with {@link Flags}, printed by {@code --help}), and whether it also
 * takes the job options of {@link io.seqrec.config.JobOptions} (the commands that start the job).
 */
record Command(
        String name,
        List<String> arguments,
        String summary,
        List<Option<?>> options,
        boolean takesJobOptions,
        Action action) {

    /** A command without positional arguments. */
    Command(
            String name,
            String summary,
            List<Option<?>> options,
            boolean takesJobOptions,
            Action action) {
        this(name, List.of(), summary, options, takesJobOptions, action);
    }

    /** What the command does with its parsed flags; returns the process exit status. */
    @FunctionalInterface
    interface Action {
        int run(Flags flags) throws Exception;
    }

    int run(String[] args) throws Exception {
        return action.run(new Flags(this, args));
    }

    /** The words of the name, as they open a command line. */
    List<String> words() {
        return List.of(name.split(" "));
    }

    /** The command's part of {@code --help}. */
    String usage() {
        StringBuilder sb = new StringBuilder();
        String head = String.join(" ", name, String.join(" ", arguments)).trim();
        sb.append("  ").append(head).append(" ".repeat(Math.max(2, 10 - head.length())));
        sb.append(summary).append('\n');
        sb.append(Option.helpText(options, "      "));
        if (takesJobOptions) {
            sb.append("      and the job options below\n");
        }
        return sb.toString();
    }
}
