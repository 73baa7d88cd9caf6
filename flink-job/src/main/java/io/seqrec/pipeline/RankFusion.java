package io.seqrec.pipeline;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reciprocal-rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009) of the model's ranking with
 * trending's, the {@code blend} strategy: {@code score(i) = 1 / (C + rank_model(i)) + β / (C +
 * rank_trending(i))}, ranks from 1 over the first {@link #DEPTH} of each, an item missing from one
 * ranking getting no term from it. Ranks, not scores, so the model's logits and trending's decayed
 * counts need no common scale. {@code seqrec_model coldstart} scores the same rule offline.
 */
final class RankFusion {
    static final int C = 60;

    /** How deep each ranking is read. */
    static final int DEPTH = 100;

    private RankFusion() {}

    /** A ranking: keys and ids, best first. */
    record Ranking(long[] keys, String[] ids, int size) {}

    /** A fused list, best first; ties keep the model's order, then trending's. */
    record Fused(long[] keys, String[] ids, float[] scores) {}

    static Fused fuse(Ranking model, Ranking trending, double beta, int k) {
        Map<Long, Candidate> byKey = new HashMap<>();
        List<Candidate> all = new ArrayList<>();
        int modelDepth = Math.min(DEPTH, model.size());
        for (int r = 0; r < modelDepth; r++) {
            Candidate c = new Candidate(model.keys()[r], model.ids()[r], r, Integer.MAX_VALUE);
            c.score = 1.0 / (C + r + 1);
            byKey.put(c.key, c);
            all.add(c);
        }
        int trendingDepth = Math.min(DEPTH, trending.size());
        for (int r = 0; r < trendingDepth; r++) {
            long key = trending.keys()[r];
            Candidate c = byKey.get(key);
            if (c == null) {
                c = new Candidate(key, trending.ids()[r], Integer.MAX_VALUE, r);
                byKey.put(key, c);
                all.add(c);
            } else {
                c.trendingRank = r;
            }
            c.score += beta / (C + r + 1);
        }
        all.sort(
                Comparator.comparingDouble((Candidate c) -> -c.score)
                        .thenComparingInt(c -> c.modelRank)
                        .thenComparingInt(c -> c.trendingRank));
        int n = Math.min(k, all.size());
        long[] keys = new long[n];
        String[] ids = new String[n];
        float[] scores = new float[n];
        for (int i = 0; i < n; i++) {
            Candidate c = all.get(i);
            keys[i] = c.key;
            ids[i] = c.id;
            scores[i] = (float) c.score;
        }
        return new Fused(keys, ids, scores);
    }

    private static final class Candidate {
        final long key;
        final String id;
        final int modelRank;
        int trendingRank;
        double score;

        Candidate(long key, String id, int modelRank, int trendingRank) {
            this.key = key;
            this.id = id;
            this.modelRank = modelRank;
            this.trendingRank = trendingRank;
        }
    }
}
