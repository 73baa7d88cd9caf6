package io.seqrec.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one syntax of every {@code seqrec} command's flags: {@code --name value} or {@code
 * --name=value}, each flag at most once. Which names a command accepts, and how their values are
 * read, is the business of its option table ({@link Option}); this only splits the words.
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
