package io.seqrec.pipeline;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The last model list each recently active user got from this subtask, with the model input it was
 * computed from, so that an event that leaves that input as it was (a repeat of the item just seen,
 * a view after a view of one item under the {@code first} repeat rule, an item the model does not
 * know) is answered with the same list without running the model again.
 *
 * <p>Not Flink state, on purpose: an answer is a function of the user's state and the model, so a
 * subtask that lost its answers (a restart, a rescale, an evicted user) computes the same list
 * again. Holding them in keyed state would add ~100 bytes per user to every checkpoint to save work
 * that is only worth saving for users active right now, which is what this bounded, least recently
 * used map keeps.
 */
final class LastAnswers {
    /** What a model answered for one input. Arrays are never written after construction. */
    record Answer(
            ServedModel model,
            int[] row,
            int[] behaviors,
            String[] ids,
            long[] keys,
            float[] scores,
            String because) {}

    private final Map<String, Answer> byUser;

    LastAnswers(int capacity) {
        this.byUser =
                new LinkedHashMap<>(capacity * 4 / 3 + 1, 0.75f, true) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, Answer> eldest) {
                        return size() > capacity;
                    }
                };
    }

    /**
     * The user's last answer if it was computed by {@code model} from exactly this input and is the
     * list the user's state says was emitted last; else {@code null}.
     */
    Answer forInput(
            String userId, ServedModel model, int[] row, int[] behaviors, long[] lastTopKeys) {
        Answer a = byUser.get(userId);
        if (a == null
                || a.model() != model
                || !Arrays.equals(a.row(), row)
                || !Arrays.equals(a.behaviors(), behaviors)
                || !Arrays.equals(a.keys(), lastTopKeys)) {
            return null;
        }
        return a;
    }

    void put(String userId, Answer answer) {
        byUser.put(userId, answer);
    }

    /** Forgets a user's answer (the user's state was cleared). */
    void remove(String userId) {
        byUser.remove(userId);
    }

    int size() {
        return byUser.size();
    }
}
