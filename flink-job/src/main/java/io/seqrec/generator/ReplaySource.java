package io.seqrec.generator;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Real interaction data read for replay into the input topic: each user's items in time order.
 * Formats: {@code ml-1m} (line i = user i, items oldest first), {@code movielens-csv} ({@code
 * userId,movieId,rating,timestamp} with header), {@code pairs} ({@code user item}, each user's
 * lines in time order). Malformed lines are reported with file and line number.
 */
public final class ReplaySource {
    /** The replay file formats; on the command line in lower case with dashes. */
    public enum Format {
        ML_1M,
        MOVIELENS_CSV,
        PAIRS
    }

    /** One user's items, oldest first. */
    public record UserSequence(String userId, List<String> items) {}

    private ReplaySource() {}

    public static List<UserSequence> read(Path file, Format format) throws IOException {
        Map<String, List<String[]>> byUser = new LinkedHashMap<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = in.readLine()) != null) {
                n++;
                String trimmed = line.trim();
                if (trimmed.isEmpty()) {
                    continue;
                }
                switch (format) {
                    case ML_1M:
                        String[] items = trimmed.split("\\s+");
                        List<String[]> seq =
                                byUser.computeIfAbsent(Integer.toString(n), k -> new ArrayList<>());
                        for (String item : items) {
                            requireInt(item, file, n);
                            seq.add(new String[] {item, "0"});
                        }
                        break;
                    case MOVIELENS_CSV:
                        if (n == 1 && trimmed.startsWith("userId")) {
                            continue;
                        }
                        String[] f = trimmed.split(",");
                        if (f.length != 4) {
                            throw malformed(file, n, "expected userId,movieId,rating,timestamp");
                        }
                        requireInt(f[3], file, n);
                        byUser.computeIfAbsent(f[0], k -> new ArrayList<>())
                                .add(new String[] {f[1], f[3]});
                        break;
                    default:
                        String[] p = trimmed.split("\\s+");
                        if (p.length != 2) {
                            throw malformed(file, n, "expected 'user item'");
                        }
                        byUser.computeIfAbsent(p[0], k -> new ArrayList<>())
                                .add(new String[] {p[1], "0"});
                }
            }
        }
        List<UserSequence> out = new ArrayList<>(byUser.size());
        for (Map.Entry<String, List<String[]>> e : byUser.entrySet()) {
            List<String[]> rows = e.getValue();
            rows.sort(Comparator.comparingLong(r -> Long.parseLong(r[1]))); // stable on ties
            List<String> items = new ArrayList<>(rows.size());
            for (String[] r : rows) {
                items.add(r[0]);
            }
            out.add(new UserSequence(e.getKey(), items));
        }
        return out;
    }

    /** One replayed interaction: the user's {@code ordinal}-th item (0-based). */
    public record Interaction(String userId, String itemId, int ordinal) {}

    /**
     * A steady mix of sequence lengths, as on a live platform where users come and go: {@code
     * active} users at a time take turns (round-robin), each from its first item to at most its
     * {@code cap}-th; when one is done, the next user of the file takes its place. The first {@code
     * active} users stop after a random share of their history, so that places turn over at
     * different times from the start. With plain {@link #interleave} every user's sequence grows
     * through the whole run, so the end of a run costs the model several times what its start does
     * and no single rate is "half the maximum" all the way through.
     *
     * <p>When the file's users are used up, they come again as new users (ids suffixed {@code ~2},
     * {@code ~3}, ...), so a long run (a soak) keeps its mix and keeps adding users.
     *
     * @return {@code limit} interactions in send order
     */
    public static List<Interaction> staggered(
            List<UserSequence> users, int active, int cap, long limit, long seed) {
        if (users.isEmpty()) {
            return List.of();
        }
        Random random = new Random(seed);
        UserSequence[] user = new UserSequence[active];
        String[] id = new String[active];
        int[] next = new int[active];
        int[] end = new int[active];
        long taken = 0;
        for (int s = 0; s < active; s++) {
            user[s] = users.get((int) (taken % users.size()));
            id[s] = recycledId(user[s], taken++ / users.size());
            end[s] = 1 + random.nextInt(Math.max(1, Math.min(cap, user[s].items().size())));
        }
        List<Interaction> out = new ArrayList<>();
        while (out.size() < limit) {
            for (int s = 0; s < active && out.size() < limit; s++) {
                out.add(new Interaction(id[s], user[s].items().get(next[s]), next[s]));
                if (++next[s] < end[s]) {
                    continue;
                }
                user[s] = users.get((int) (taken % users.size()));
                id[s] = recycledId(user[s], taken++ / users.size());
                next[s] = 0;
                end[s] = Math.min(cap, user[s].items().size());
            }
        }
        return out;
    }

    private static String recycledId(UserSequence u, long round) {
        return round == 0 ? u.userId() : u.userId() + "~" + (round + 1);
    }

    /**
     * The users' items interleaved round-robin (each user's items in order), at most {@code limit}
     * of them, in send order.
     */
    public static List<Interaction> interleave(List<UserSequence> users, long limit) {
        List<Interaction> out = new ArrayList<>();
        int[] next = new int[users.size()];
        boolean more = true;
        while (more && out.size() < limit) {
            more = false;
            for (int u = 0; u < users.size() && out.size() < limit; u++) {
                UserSequence s = users.get(u);
                if (next[u] < s.items().size()) {
                    out.add(new Interaction(s.userId(), s.items().get(next[u]), next[u]));
                    next[u]++;
                    more = true;
                }
            }
        }
        return out;
    }

    private static void requireInt(String s, Path file, int line) throws IOException {
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i))) {
                throw malformed(file, line, "'" + s + "' is not a whole number");
            }
        }
    }

    private static IOException malformed(Path file, int line, String what) {
        return new IOException(file + ":" + line + ": malformed line: " + what);
    }
}
