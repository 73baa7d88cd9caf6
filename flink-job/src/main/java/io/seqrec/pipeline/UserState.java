package io.seqrec.pipeline;

import io.seqrec.event.StableHash;
import java.util.Arrays;

/**
 * What the job keeps per user (a Flink POJO, stored in RocksDB as one value).
 *
 * <ul>
 *   <li>{@code items}/{@code times}: the user's last {@code maxLen} model item indices, oldest
 *       first, ordered by event time (stable for equal times). A repeat of the neighbouring item
 *       (view, click, cart of one product) is one step, as in training.
 *   <li>{@code recentEventHashes}: a ring of 64-bit hashes of the last event ids applied, to apply
 *       a redelivered event once. Hashes, not the ids: the state is read and written on every
 *       event, and 32 strings were the costliest part of it to (de)serialize; two different ids of
 *       one user collide with probability ~2^-64 per comparison.
 *   <li>{@code newestTs}: newest event time seen; the reference for lateness.
 *   <li>{@code lastTopK}/{@code seq}: the last emitted recommendations (item indices, for the live
 *       evaluation) and how many have been emitted.
 * </ul>
 *
 * <p><b>Never changed in place.</b> {@link #apply} and {@link #recommended} return a new value and
 * leave this one, and every array it holds, as it was. The heap state backend hands out the stored
 * object itself, RocksDB a fresh copy on every read; only values that are never written in place
 * make the operator's "a failed batch leaves state as it was" hold on both. The public fields are
 * for Flink's POJO serializer, not for writing.
 */
public class UserState {
    public int[] items = new int[0];
    public long[] times = new long[0];
    public long[] recentEventHashes = new long[0];
    public int recentNext;
    public long newestTs = Long.MIN_VALUE;
    public int[] lastTopK;
    public long seq;

    public UserState() {}

    /** What {@link #apply} made of an event: its outcome, and the user's state after it. */
    public record Transition(Applied outcome, UserState state) {}

    /** Outcome of {@link #apply}. */
    public enum Applied {
        /** The item became a new step of the sequence. */
        APPENDED,
        /** Accepted; the sequence did not change (a repeat, an unknown item, too old to fit). */
        UNCHANGED,
        LATE,
        DUPLICATE
    }

    /**
     * The state after one event; this state is left as it was.
     *
     * @param itemIndex the model's index of the item, 0 if the model does not know it
     */
    public Transition apply(
            String eventId,
            int itemIndex,
            long ts,
            long allowedLatenessMs,
            int maxLen,
            int dedupeWindow) {
        long hash = dedupeWindow > 0 ? eventIdHash(eventId) : 0;
        if (dedupeWindow > 0 && contains(recentEventHashes, hash)) {
            return new Transition(Applied.DUPLICATE, this);
        }
        if (newestTs != Long.MIN_VALUE && ts < newestTs - allowedLatenessMs) {
            return new Transition(Applied.LATE, this);
        }
        UserState next = copy();
        next.remember(hash, dedupeWindow);
        next.newestTs = Math.max(newestTs, ts);
        if (itemIndex == 0) {
            return new Transition(Applied.UNCHANGED, next);
        }
        int n = items.length;
        int pos = n;
        while (pos > 0 && times[pos - 1] > ts) {
            pos--;
        }
        if ((pos > 0 && items[pos - 1] == itemIndex) || (pos < n && items[pos] == itemIndex)) {
            return new Transition(Applied.UNCHANGED, next);
        }
        if (n == maxLen && pos == 0) {
            return new Transition(Applied.UNCHANGED, next);
        }
        int drop = n == maxLen ? 1 : 0;
        int[] newItems = new int[n + 1 - drop];
        long[] newTimes = new long[n + 1 - drop];
        int before = pos - drop;
        System.arraycopy(items, drop, newItems, 0, before);
        System.arraycopy(times, drop, newTimes, 0, before);
        newItems[before] = itemIndex;
        newTimes[before] = ts;
        System.arraycopy(items, pos, newItems, before + 1, n - pos);
        System.arraycopy(times, pos, newTimes, before + 1, n - pos);
        next.items = newItems;
        next.times = newTimes;
        return new Transition(Applied.APPENDED, next);
    }

    /** The state after emitting recommendations {@code topK} (item indices, best first). */
    public UserState recommended(int[] topK) {
        UserState next = copy();
        next.lastTopK = topK;
        next.seq = seq + 1;
        return next;
    }

    /** A shallow copy: the arrays are shared, which is safe because none is written in place. */
    private UserState copy() {
        UserState c = new UserState();
        c.items = items;
        c.times = times;
        c.recentEventHashes = recentEventHashes;
        c.recentNext = recentNext;
        c.newestTs = newestTs;
        c.lastTopK = lastTopK;
        c.seq = seq;
        return c;
    }

    /** Adds {@code hash} to the ring in a new array (this value's ring may be shared). */
    private void remember(long hash, int window) {
        if (window == 0) {
            return;
        }
        long[] ring = new long[window];
        int keep = Math.min(window, recentEventHashes.length);
        if (recentEventHashes.length == window) {
            System.arraycopy(recentEventHashes, 0, ring, 0, window);
        } else {
            // The window was resized (another --dedupe-window after a restore): keep the newest.
            for (int i = 0; i < keep; i++) {
                int from =
                        Math.floorMod(recentNext - keep + i, Math.max(1, recentEventHashes.length));
                ring[i] = recentEventHashes[from];
            }
            recentNext = keep % window;
        }
        ring[recentNext] = hash;
        recentEventHashes = ring;
        recentNext = (recentNext + 1) % window;
    }

    private static boolean contains(long[] hashes, long hash) {
        for (long h : hashes) {
            if (h == hash) {
                return true;
            }
        }
        return false;
    }

    /** A 64-bit hash of an event id, never 0 (0 marks an empty slot of the ring). */
    static long eventIdHash(String eventId) {
        return StableHash.of(eventId);
    }

    @Override
    public String toString() {
        return "UserState{items=" + Arrays.toString(items) + ", seq=" + seq + "}";
    }
}
