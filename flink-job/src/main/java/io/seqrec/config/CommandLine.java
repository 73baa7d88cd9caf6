package io.seqrec.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The one syntax of every {@code seqrec} command's flags: {@code --name value} or {@code
 * --name=value}, each flag at most once; a switch (a {@code BOOL} option) given alone, {@code
 * --name}, means {@code --name true}. Which names a command accepts, and how their values are read,
 * is the business of its option table ({@link Option}); this only splits the words.
 */
public final class CommandLine {
    private CommandLine() {}

    /**
     * Flag names (without dashes) to their raw values, in the order given.
     *
     * @throws ConfigException for a word that is not a flag, a flag without a value, or a flag
     *     given twice
     */
    public static Map<String, String> split(String[] args) {
        return split(args, Set.of());
    }

    /**
     * As {@link #split(String[])}, {@code switches} naming the flags that may stand alone for
     * {@code true}.
     */
    public static Map<String, String> split(String[] args, Set<String> switches) {
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new ConfigException(
                        "unexpected argument '" + a + "' (options look like --name value)");
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                value = args[++i];
            } else if (switches.contains(name)) {
                value = "true";
            } else {
                throw new ConfigException("--" + name + " needs a value");
            }
            if (values.put(name, value) != null) {
                throw new ConfigException("--" + name + " given twice");
            }
        }
        return values;
    }
}
