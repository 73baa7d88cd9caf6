package io.seqrec.config;

import java.time.Duration;
import java.util.Locale;
import java.util.function.Function;

/** Value parsers for {@link Option}s; each rejects bad input with a message saying what fits. */
public final class Values {
    private Values() {}

    public static Function<String, Integer> intInRange(int min, int max) {
        return s -> {
            int v;
            try {
                v = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a whole number");
            }
            if (v < min || v > max) {
                throw new IllegalArgumentException(
                        "expected a value between " + min + " and " + max);
            }
            return v;
        };
    }

    /** Like {@link #intInRange}, and also accepts the word {@code word}, read as {@code value}. */
    public static Function<String, Integer> intInRangeOr(String word, int value, int min, int max) {
        Function<String, Integer> number = intInRange(min, max);
        return s -> {
            if (s.trim().equalsIgnoreCase(word)) {
                return value;
            }
            try {
                return number.apply(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage() + " or " + word);
            }
        };
    }

    public static Function<String, Long> longInRange(long min, long max) {
        return s -> {
            long v;
            try {
                v = Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a whole number");
            }
            if (v < min || v > max) {
                throw new IllegalArgumentException(
                        "expected a value between " + min + " and " + max);
            }
            return v;
        };
    }

    public static Function<String, Double> doubleInRange(double min, double max) {
        return s -> {
            double v;
            try {
                v = Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a number");
            }
            if (!(v >= min && v <= max)) {
                throw new IllegalArgumentException(
                        "expected a value between " + min + " and " + max);
            }
            return v;
        };
    }

    public static Function<String, Boolean> bool() {
        return s -> {
            switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "true":
                case "yes":
                case "on":
                    return true;
                case "false":
                case "no":
                case "off":
                    return false;
                default:
                    throw new IllegalArgumentException("expected true or false");
            }
        };
    }

    public static Function<String, String> nonEmpty() {
        return s -> {
            if (s == null || s.isBlank()) {
                throw new IllegalArgumentException("must not be empty");
            }
            return s.trim();
        };
    }

    /** Parses {@code 250ms}, {@code 10s}, {@code 5m}, {@code 2h}, {@code 30d}; positive only. */
    public static Function<String, Duration> positiveDuration() {
        return s -> {
            Duration d = duration(s);
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException("expected a positive duration");
            }
            return d;
        };
    }

    /** Like {@link #positiveDuration()} but accepts {@code 0}. */
    public static Function<String, Duration> nonNegativeDuration() {
        return Values::duration;
    }

    static Duration duration(String raw) {
        String s = raw.trim().toLowerCase(Locale.ROOT);
        int split = 0;
        while (split < s.length() && Character.isDigit(s.charAt(split))) {
            split++;
        }
        if (split == 0) {
            throw new IllegalArgumentException(
                    "expected a duration such as 250ms, 10s, 5m, 2h or 30d");
        }
        long n;
        try {
            n = Long.parseLong(s.substring(0, split));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("duration out of range");
        }
        switch (s.substring(split)) {
            case "ms":
                return Duration.ofMillis(n);
            case "s":
                return Duration.ofSeconds(n);
            case "m":
            case "min":
                return Duration.ofMinutes(n);
            case "h":
                return Duration.ofHours(n);
            case "d":
                return Duration.ofDays(n);
            case "":
                if (n == 0) {
                    return Duration.ZERO;
                }
                throw new IllegalArgumentException(
                        "missing unit: write e.g. " + n + "ms or " + n + "s");
            default:
                throw new IllegalArgumentException(
                        "unknown unit '" + s.substring(split) + "': use ms, s, m, h or d");
        }
    }

    public static <E extends Enum<E>> Function<String, E> oneOf(Class<E> type) {
        return s -> {
            String wanted = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            for (E e : type.getEnumConstants()) {
                if (e.name().equals(wanted)) {
                    return e;
                }
            }
            StringBuilder allowed = new StringBuilder();
            for (E e : type.getEnumConstants()) {
                if (allowed.length() > 0) {
                    allowed.append('|');
                }
                allowed.append(wireName(e));
            }
            throw new IllegalArgumentException("expected one of " + allowed);
        };
    }

    public static String wireName(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
