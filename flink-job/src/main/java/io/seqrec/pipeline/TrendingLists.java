package io.seqrec.pipeline;

import io.seqrec.trending.TrendingSettings;
import io.seqrec.trending.TrendingSketch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * A subtask's trending items, as lists for users: every accepted event is counted ({@link #count});
 * at the start of each batch the ranking is read once ({@link #refresh}), and each user's list is
 * taken from it without the items the user has seen ({@link #listFor}). Lists within a batch thus
 * rank what was popular before the batch: for the live baseline, that is "what trending would have
 * recommended after the user's previous event", up to the other events of the same batch.
 *
 * <p>Checkpointed as union operator state, each subtask's sketch tagged with its index and the
 * parallelism: a restore at the same parallelism takes its own sketch back (so replayed output
 * matches an uninterrupted run); at another parallelism each subtask takes the merge of all, scaled
 * to its share of the traffic.
 */
final class TrendingLists {
    /**
     * The ranking kept between refreshes: enough to fill K after leaving out a user's items, and
     * for the blend's fusion ({@link RankFusion#DEPTH}).
     */
    private final int depth;

    private final boolean excludeSeen;
    private TrendingSketch sketch;
    private List<TrendingSketch.Entry> ranked = List.of();

    /** A list for one user: item keys, ids and scores (popularity relative to the top item). */
    record Ranked(long[] keys, String[] ids, float[] scores) {
        int size() {
            return keys.length;
        }
    }

    TrendingLists(TrendingSketch sketch, int topK, boolean excludeSeen) {
        this.sketch = sketch;
        this.depth = Math.max(4 * topK + 40, RankFusion.DEPTH + 20);
        this.excludeSeen = excludeSeen;
    }

    void count(long itemKey, String itemId, long ts) {
        sketch.add(itemKey, itemId, ts, 1);
    }

    void refresh() {
        ranked = sketch.top(depth);
    }

    /**
     * At most {@code k} trending items, best first, leaving out {@code seenKeys} (unless
     * --exclude-seen is off).
     */
    Ranked listFor(long[] seenKeys, int k) {
        return listFor(seenKeys, k, key -> true);
    }

    /** As {@link #listFor(long[], int)}, of the items {@code eligible} accepts only. */
    Ranked listFor(long[] seenKeys, int k, LongPredicate eligible) {
        long[] keys = new long[k];
        String[] ids = new String[k];
        float[] scores = new float[k];
        int n = 0;
        double top = ranked.isEmpty() ? 1 : ranked.get(0).count();
        for (TrendingSketch.Entry e : ranked) {
            if (n == k) {
                break;
            }
            if ((excludeSeen && contains(seenKeys, e.key())) || !eligible.test(e.key())) {
                continue;
            }
            keys[n] = e.key();
            ids[n] = e.id();
            scores[n] = (float) (e.count() / top);
            n++;
        }
        if (n < k) {
            return new Ranked(
                    java.util.Arrays.copyOf(keys, n),
                    java.util.Arrays.copyOf(ids, n),
                    java.util.Arrays.copyOf(scores, n));
        }
        return new Ranked(keys, ids, scores);
    }

    private static boolean contains(long[] keys, long key) {
        for (long k : keys) {
            if (k == key) {
                return true;
            }
        }
        return false;
    }

    byte[] snapshot(int subtask, int parallelism) {
        byte[] body = sketch.toBytes();
        return ByteBuffer.allocate(8 + body.length)
                .putInt(subtask)
                .putInt(parallelism)
                .put(body)
                .array();
    }

    /** The sketch a subtask restores from the union of every subtask's {@link #snapshot}. */
    static TrendingSketch restore(
            Iterable<byte[]> snapshots, TrendingSettings settings, int subtask, int parallelism) {
        List<byte[]> bodies = new ArrayList<>();
        byte[] own = null;
        for (byte[] s : snapshots) {
            ByteBuffer b = ByteBuffer.wrap(s);
            int index = b.getInt();
            int savedParallelism = b.getInt();
            byte[] body = new byte[b.remaining()];
            b.get(body);
            bodies.add(body);
            if (index == subtask && savedParallelism == parallelism) {
                own = body;
            }
        }
        if (bodies.isEmpty()) {
            return settings.newSketch();
        }
        if (own != null && bodies.size() == parallelism) {
            return TrendingSketch.merge(
                    List.of(own), settings.capacity(), settings.halfLifeMs(), 1.0);
        }
        return TrendingSketch.merge(
                bodies, settings.capacity(), settings.halfLifeMs(), 1.0 / parallelism);
    }
}
