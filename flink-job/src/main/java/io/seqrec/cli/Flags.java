package io.seqrec.cli;

import io.seqrec.config.CommandLine;
import io.seqrec.config.JobOptions;
import io.seqrec.config.Option;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A command's positional arguments (the words before its first flag, at most as many as it
 * declares) and its flags, split by {@link CommandLine} (the one flag syntax of {@code seqrec}) and
 * read through the command's option table. Flags the command does not own are job options if the
 * command takes them (checked when the job configuration is built), and rejected otherwise.
 */
final class Flags {
    private final Command command;
    private final List<String> arguments = new ArrayList<>();
    private final Map<String, String> own = new LinkedHashMap<>();
    private final Map<String, String> jobOptions = new LinkedHashMap<>();

    Flags(Command command, String[] args) {
        this.command = command;
        int first = 0;
        while (first < Math.min(args.length, command.arguments().size())
                && !args[first].startsWith("--")) {
            arguments.add(args[first++]);
        }
        String[] flags = Arrays.copyOfRange(args, first, args.length);
        Set<String> switches = new HashSet<>();
        command.options().stream()
                .filter(o -> "BOOL".equals(o.valueHint()))
                .forEach(o -> switches.add(o.name()));
        for (Map.Entry<String, String> flag : CommandLine.split(flags, switches).entrySet()) {
            String name = flag.getKey();
            if (command.options().stream().anyMatch(o -> o.name().equals(name))) {
                own.put(name, flag.getValue());
            } else if (command.takesJobOptions() && JobOptions.byName(name) != null) {
                jobOptions.put(name, flag.getValue());
            } else {
                throw new UsageException(
                        "unknown option --" + name + " for " + command.name() + " (see --help)");
            }
        }
    }

    /** The positional argument {@code name}, one of the command's {@link Command#arguments}. */
    String argument(String name) {
        int i = command.arguments().indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException(name + " is not an argument of " + command.name());
        }
        if (i >= arguments.size()) {
            throw new UsageException(command.name() + " needs " + name);
        }
        return arguments.get(i);
    }

    /** The job options given, as raw values by name (a copy the caller may add to). */
    Map<String, String> jobOptions() {
        return new LinkedHashMap<>(jobOptions);
    }

    /** The option's value, or its default; {@code null} if neither is there. */
    <T> T get(Option<T> option) {
        String raw = own.getOrDefault(checked(option).name(), option.defaultValue());
        return raw == null ? null : option.parse(raw);
    }

    /** The option's value, or {@code fallback} if it was not given and has no default. */
    <T> T get(Option<T> option, T fallback) {
        T value = get(option);
        return value == null ? fallback : value;
    }

    <T> T required(Option<T> option) {
        T value = get(option);
        if (value == null) {
            throw new UsageException("--" + option.name() + " is required");
        }
        return value;
    }

    boolean given(Option<?> option) {
        return own.containsKey(checked(option).name());
    }

    private <T> Option<T> checked(Option<T> option) {
        if (!command.options().contains(option)) {
            throw new IllegalArgumentException(
                    "--" + option.name() + " is not an option of " + command.name());
        }
        return option;
    }
}
