package io.seqrec.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A {@code .dockerignore} file, matched as Docker's builder matches it (moby/patternmatcher): each
 * line is a path pattern relative to the context root, cleaned like a path (a leading or trailing
 * {@code /} dropped); {@code *} is any run of characters but {@code /}, {@code ?} one such
 * character, {@code **} any number of directories (none included); a pattern that matches a
 * directory matches everything under it; a line starting with {@code !} re-includes what it
 * matches; and the last line that matches a path decides.
 */
final class DockerIgnore {
    private record Rule(Pattern regex, boolean exception, String text) {}

    private final List<Rule> rules;

    private DockerIgnore(List<Rule> rules) {
        this.rules = rules;
    }

    static DockerIgnore parse(String text) {
        List<Rule> rules = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            boolean exception = line.startsWith("!");
            String pattern = clean(exception ? line.substring(1).strip() : line);
            if (pattern.isEmpty() || pattern.equals(".")) {
                continue;
            }
            rules.add(new Rule(toRegex(pattern), exception, line));
        }
        return new DockerIgnore(rules);
    }

    static DockerIgnore none() {
        return new DockerIgnore(List.of());
    }

    /**
     * Whether the file or directory at {@code path} (relative, {@code /}-separated) is left out.
     */
    boolean excludes(String path) {
        String[] parents = path.split("/");
        boolean excluded = false;
        for (Rule rule : rules) {
            // As patternmatcher: a rule that cannot change the outcome is not evaluated.
            if (rule.exception() != excluded) {
                continue;
            }
            boolean match = rule.regex().matcher(path).matches();
            for (int i = 1; !match && i < parents.length; i++) {
                match =
                        rule.regex()
                                .matcher(String.join("/", List.of(parents).subList(0, i)))
                                .matches();
            }
            if (match) {
                excluded = !rule.exception();
            }
        }
        return excluded;
    }

    /**
     * Whether an excluded directory may still hold a path an exception re-includes, so the walk of
     * the context must enter it (Docker walks into it for the same reason).
     */
    boolean mayReinclude(String directory) {
        for (Rule rule : rules) {
            if (rule.exception()) {
                String literal = literalPrefix(rule.text().substring(1).strip());
                if (literal.startsWith(directory + "/")
                        || (directory + "/").startsWith(literal)
                        || literal.isEmpty()) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String literalPrefix(String pattern) {
        String p = clean(pattern);
        int wildcard = p.length();
        for (char c : new char[] {'*', '?', '[', '\\'}) {
            int at = p.indexOf(c);
            if (at >= 0) {
                wildcard = Math.min(wildcard, at);
            }
        }
        return p.substring(0, wildcard);
    }

    /** filepath.Clean for the forms a .dockerignore line takes; a leading '/' means the root. */
    private static String clean(String pattern) {
        List<String> out = new ArrayList<>();
        for (String part : pattern.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..") && !out.isEmpty()) {
                out.remove(out.size() - 1);
            } else {
                out.add(part);
            }
        }
        return String.join("/", out);
    }

    private static Pattern toRegex(String pattern) {
        StringBuilder re = new StringBuilder("^");
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '*') {
                if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                    i++;
                    if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '/') {
                        i++; // "**/" is "**"
                    }
                    // "**" at the end matches everything; elsewhere any number of directories.
                    re.append(i + 1 == pattern.length() ? ".*" : "(.*/)?");
                } else {
                    re.append("[^/]*");
                }
            } else if (c == '?') {
                re.append("[^/]");
            } else if (c == '\\' && i + 1 < pattern.length()) {
                re.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
            } else if (c == '[') {
                int end = pattern.indexOf(']', i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated '[' in " + pattern);
                }
                String set = pattern.substring(i + 1, end);
                re.append('[')
                        .append(
                                set.startsWith("^") || set.startsWith("!")
                                        ? "^" + set.substring(1)
                                        : set)
                        .append(']');
                i = end;
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.append('$').toString());
    }
}
