package io.seqrec.evaluation;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Beyond-accuracy figures of a set of recommendation lists, defined as RecBole and Microsoft
 * Recommenders define them, so offline and live figures compare:
 *
 * <ul>
 *   <li>{@link #coverage}: distinct items recommended ÷ catalog size (RecBole {@code
 *       ItemCoverage});
 *   <li>{@link #novelty}: mean over every listed item of −log2 of its share of interactions
 *       (Microsoft Recommenders {@code novelty}), the share smoothed by one interaction per catalog
 *       item so that an item nobody interacted with has a finite value;
 *   <li>{@link #intraListDiversity}: mean over lists of 1 − the mean pairwise cosine similarity of
 *       the listed items, items represented by the users who interacted with them (co-occurrence:
 *       cosine = |U_i ∩ U_j| / sqrt(|U_i| |U_j|), 0 if either is empty);
 *   <li>{@link #gini}: Gini index of how often each catalog item was recommended (RecBole {@code
 *       GiniIndex}), items never recommended counting 0: 0 when every item is recommended equally
 *       often, close to 1 when a few items take every slot;
 *   <li>{@link #averagePopularity}: mean over lists of the mean interaction count of the listed
 *       items (RecBole {@code AveragePopularity}).
 * </ul>
 *
 * <p>{@code model/seqrec_model/beyond.py} implements the same definitions for {@code seqrec_model
 * evaluate}.
 */
public final class BeyondAccuracy {
    private BeyondAccuracy() {}

    public static double coverage(Collection<String[]> lists, int catalogSize) {
        Set<String> distinct = new HashSet<>();
        for (String[] list : lists) {
            for (String item : list) {
                distinct.add(item);
            }
        }
        return catalogSize == 0 ? 0 : (double) distinct.size() / catalogSize;
    }

    /**
     * @param interactions interactions by item
     * @param total all interactions
     */
    public static double novelty(
            Collection<String[]> lists,
            Map<String, Integer> interactions,
            long total,
            int catalogSize) {
        double sum = 0;
        long n = 0;
        double denominator = total + (double) catalogSize;
        for (String[] list : lists) {
            for (String item : list) {
                double share = (interactions.getOrDefault(item, 0) + 1) / denominator;
                sum += -Math.log(share) / Math.log(2);
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    /**
     * @param usersByItem for each item, the users who interacted with it
     */
    public static double intraListDiversity(
            Collection<String[]> lists, Map<String, Set<String>> usersByItem) {
        double sum = 0;
        long n = 0;
        for (String[] list : lists) {
            if (list.length < 2) {
                continue;
            }
            double similarity = 0;
            int pairs = 0;
            for (int a = 0; a < list.length; a++) {
                for (int b = a + 1; b < list.length; b++) {
                    similarity += cosine(usersByItem.get(list[a]), usersByItem.get(list[b]));
                    pairs++;
                }
            }
            sum += 1 - similarity / pairs;
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }

    static double cosine(Set<String> a, Set<String> b) {
        if (a == null || b == null || a.isEmpty() || b.isEmpty()) {
            return 0;
        }
        Set<String> small = a.size() <= b.size() ? a : b;
        Set<String> large = small == a ? b : a;
        int shared = 0;
        for (String u : small) {
            shared += large.contains(u) ? 1 : 0;
        }
        return shared / Math.sqrt((double) a.size() * b.size());
    }

    /**
     * @param counts how often each item recommended at least once was recommended (any order)
     * @param catalogSize items that could have been recommended; those not in {@code counts} count
     *     0 (if {@code counts} has more items, its length is the catalog)
     */
    public static double gini(long[] counts, int catalogSize) {
        long[] sorted = counts.clone();
        Arrays.sort(sorted);
        int n = Math.max(catalogSize, sorted.length);
        int zeros = n - sorted.length;
        double weighted = 0;
        double total = 0;
        for (int j = 0; j < sorted.length; j++) {
            long i = zeros + j + 1L; // 1-based rank among all n items, ascending
            weighted += (2 * i - n - 1) * (double) sorted[j];
            total += sorted[j];
        }
        return total == 0 ? 0 : weighted / (n * total);
    }

    /**
     * @param interactions interactions by item (an item absent has none)
     */
    public static double averagePopularity(
            Collection<String[]> lists, Map<String, Integer> interactions) {
        double sum = 0;
        long n = 0;
        for (String[] list : lists) {
            if (list.length == 0) {
                continue;
            }
            double listSum = 0;
            for (String item : list) {
                listSum += interactions.getOrDefault(item, 0);
            }
            sum += listSum / list.length;
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }
}
