package io.seqrec.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} flags of a subcommand. Flags the subcommand owns are taken out; the rest
 * stay for the job configuration (for {@code demo} and {@code run}) or are rejected.
 */
final class Flags {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> rest = new LinkedHashMap<>();

    Flags(String[] args, Set<String> own) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new UsageException(
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
                throw new UsageException("--" + name + " needs a value");
            }
            (own.contains(name) ? values : rest).put(name, value);
        }
    }

    /** The flags not owned by the subcommand, as {@code --name value} pairs. */
    Map<String, String> rest() {
        return rest;
    }

    void rejectRest() {
        if (!rest.isEmpty()) {
            throw new UsageException(
                    "unknown option --" + rest.keySet().iterator().next() + " (see --help)");
        }
    }

    String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new UsageException("--" + name + " is required");
        }
        return v;
    }

    long longValue(String name, long fallback, long min) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n < min) {
                throw new UsageException("--" + name + " '" + v + "': must be at least " + min);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " '" + v + "': expected a whole number");
        }
    }

    double doubleValue(String name, double fallback, double min, double max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (!(d >= min && d <= max)) {
                throw new UsageException(
                        "--" + name + " '" + v + "': must be between " + min + " and " + max);
            }
            return d;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " '" + v + "': expected a number");
        }
    }
}
