package io.seqrec.evaluation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The most-popular baseline under the live protocol, as a consumer can compute it from the events
 * it sent: after each of a user's events, the K items with the most interactions so far (over all
 * users, ties by id), without those the user has interacted with, are that user's baseline list;
 * the user's next event is checked against it exactly as against the job's list ({@link
 * LiveEvaluation}: a check when the user turns to an item other than the previous one).
 */
public final class PopularityBaseline {
    private final int k;
    private final Map<String, Integer> counts = new HashMap<>();
    private final Map<String, Set<String>> seenByUser = new HashMap<>();
    private final Map<String, String[]> listByUser = new HashMap<>();
    private final Map<String, String> lastItemByUser = new HashMap<>();
    private final LiveEvaluation evaluation = new LiveEvaluation();

    public PopularityBaseline(int k) {
        this.k = k;
    }

    /** The next event, in the order the stream carried them. */
    public void accept(String userId, String itemId) {
        String[] previousList = listByUser.get(userId);
        String previousItem = lastItemByUser.get(userId);
        if (previousList != null && !itemId.equals(previousItem)) {
            evaluation.record(previousList, itemId);
        }
        counts.merge(itemId, 1, Integer::sum);
        Set<String> seen = seenByUser.computeIfAbsent(userId, u -> new HashSet<>());
        seen.add(itemId);
        lastItemByUser.put(userId, itemId);
        listByUser.put(userId, top(seen));
    }

    public LiveTotals totals() {
        return evaluation.totals();
    }

    private String[] top(Set<String> exclude) {
        List<Map.Entry<String, Integer>> best = new ArrayList<>(k + 1);
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            if (exclude.contains(e.getKey())) {
                continue;
            }
            int pos = best.size();
            while (pos > 0 && better(e, best.get(pos - 1))) {
                pos--;
            }
            if (pos < k) {
                best.add(pos, e);
                if (best.size() > k) {
                    best.remove(k);
                }
            }
        }
        String[] out = new String[best.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = best.get(i).getKey();
        }
        return out;
    }

    private static boolean better(Map.Entry<String, Integer> a, Map.Entry<String, Integer> b) {
        int c = Integer.compare(a.getValue(), b.getValue());
        return c > 0 || (c == 0 && a.getKey().compareTo(b.getKey()) < 0);
    }
}
