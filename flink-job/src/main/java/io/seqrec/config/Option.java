package io.seqrec.config;

import java.util.function.Function;

/**
 * One command-line option: its flag, default, description and how to parse and check a value. The
 * option table in {@link JobOptions} is the single source for parsing, {@code --help} and the
 * README's configuration table.
 *
 * @param name flag without the leading dashes
 * @param defaultValue the default as the user would type it, or {@code null} if there is none
 * @param valueHint a short placeholder shown in help, e.g. {@code MS} or {@code DIR}
 * @param description one sentence for help and README
 * @param parser parses and validates a value; throws {@link IllegalArgumentException} with a
 *     message saying what is accepted
 */
public record Option<T>(
        String name,
        String defaultValue,
        String valueHint,
        String description,
        Function<String, T> parser) {

    /** Parses {@code raw} or fails with a message naming this option. */
    public T parse(String raw) {
        try {
            return parser.apply(raw);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--" + name + " " + quote(raw) + ": " + e.getMessage(), e);
        }
    }

    /** Aligned help lines, one per option, each starting with {@code indent}. */
    public static String helpText(java.util.List<Option<?>> options, String indent) {
        StringBuilder sb = new StringBuilder();
        for (Option<?> o : options) {
            String flag = indent + "--" + o.name() + " " + o.valueHint();
            sb.append(flag);
            sb.append(" ".repeat(Math.max(1, 48 - flag.length())));
            sb.append(o.description());
            if (o.defaultValue() != null) {
                sb.append(" [default: ").append(o.defaultValue()).append(']');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String quote(String s) {
        return s == null ? "(missing)" : "'" + s + "'";
    }
}
