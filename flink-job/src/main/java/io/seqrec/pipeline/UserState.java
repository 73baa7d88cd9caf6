package io.seqrec.pipeline;

import io.seqrec.event.EventType;
import io.seqrec.event.StableHash;
import io.seqrec.model.ModelArtifact;
import java.io.Serializable;
import java.lang.reflect.Array;
import java.util.Arrays;

/**
 * What the job keeps per user (a Flink POJO, stored in RocksDB as one value). Nothing in it depends
 * on a model: items are named by their key ({@link StableHash} of the item id), so any model, with
 * any vocabulary, reads the same history ({@link #row}).
 *
 * <ul>
 *   <li>{@code itemKeys}/{@code itemTypes}/{@code itemTimes}: the user's history, the last {@code
 *       maxHistory} steps, oldest first, ordered by event time (stable for equal times): each
 *       step's item key, {@link EventType} (as its ordinal) and event time. A repeat of the
 *       neighbouring item (view, click, cart of one product) is one step, as in training, and keeps
 *       the type of its first event. Items no model knows are kept like any other.
 *   <li>{@code itemStrongestTypes}: each step's strongest type of its run of repeats (view &lt;
 *       click &lt; cart &lt; purchase, a rating ranking with a purchase), what a model trained with
 *       the {@code strongest} repeat rule reads ({@link ModelArtifact.RepeatRule}). Empty in a
 *       state written before it existed: then each step's first type stands for its strongest.
 *   <li>{@code recentEventHashes}: a ring of 64-bit hashes of the last event ids applied, to apply
 *       a redelivered event once. Hashes, not the ids: the state is read and written on every
 *       event, and 32 strings were the costliest part of it to (de)serialize; two different ids of
 *       one user collide with probability ~2^-64 per comparison.
 *   <li>{@code newestTs}: newest event time seen; the reference for lateness.
 *   <li>{@code lastTopKeys}/{@code seq}: the item keys of the last emitted recommendations (for the
 *       live evaluation) and how many recommendations have been emitted.
 *   <li>{@code newestStepCheck}: the outcome of the live check of the newest step, kept until the
 *       user buys that item (the live figures of purchased items count it then) or turns to
 *       another: {@link #NO_CHECK}, {@link #CHECK_MISSED}, or the rank of the hit plus one. A
 *       snapshot from before the field restores it as {@link #NO_CHECK}.
 *   <li>{@code rateSecond}/{@code rateCount}: with {@code --max-events-per-user-per-second}, the
 *       event-time second ({@code ts / 1000}) of the user's newest accepted event and how many
 *       events were accepted in it ({@link Applied#RATE_LIMITED}). Untouched (0) without the limit;
 *       a snapshot from before the fields restores them as 0, which opens a new second at the next
 *       event.
 * </ul>
 *
 * <p><b>Never changed in place.</b> {@link #apply} and {@link #recommended} return a new value and
 * leave this one, and every array it holds, as it was. The heap state backend hands out the stored
 * object itself, RocksDB a fresh copy on every read; only values that are never written in place
 * make the operator's "a failed batch leaves state as it was" hold on both. The public fields are
 * for Flink's POJO serializer, not for writing.
 *
 * <p><b>Layout changes.</b> Flink's POJO serializer drops a stored field that the class no longer
 * has and starts a new one empty. The history's fields were renamed when they stopped holding a
 * model's indices ({@code items}, {@code times}, {@code lastTopK} before), so a savepoint of the
 * old layout restores users with an empty history rather than one misread (docs/RELIABILITY.md).
 * {@code itemStrongestTypes} came later: a savepoint without it restores every history whole, each
 * step's strongest type taken to be its first (what that state knew of it).
 */
public class UserState {
    public long[] itemKeys = new long[0];
    public byte[] itemTypes = new byte[0];
    public byte[] itemStrongestTypes = new byte[0];
    public long[] itemTimes = new long[0];
    public long[] recentEventHashes = new long[0];
    public int recentNext;
    public long newestTs = Long.MIN_VALUE;
    public long[] lastTopKeys;
    public long seq;
    public int newestStepCheck = NO_CHECK;
    public long rateSecond;
    public int rateCount;

    /** {@link #newestStepCheck}: no check of the newest step waits for a purchase. */
    public static final int NO_CHECK = 0;

    /** {@link #newestStepCheck}: the newest step was checked and missed. */
    public static final int CHECK_MISSED = -1;

    public UserState() {}

    /**
     * The bounds {@link #apply} keeps a user's state within (job options); {@code
     * maxEventsPerSecond} 0 is no rate limit.
     */
    public record Limits(
            long allowedLatenessMs, int maxHistory, int dedupeWindow, int maxEventsPerSecond)
            implements Serializable {

        /** Without a rate limit. */
        public Limits(long allowedLatenessMs, int maxHistory, int dedupeWindow) {
            this(allowedLatenessMs, maxHistory, dedupeWindow, 0);
        }
    }

    /** What {@link #apply} made of an event: its outcome, and the user's state after it. */
    public record Transition(Applied outcome, UserState state) {}

    /** Outcome of {@link #apply}. */
    public enum Applied {
        /** The item became a new step of the history. */
        APPENDED,
        /**
         * A repeat of a neighbouring step's item with a stronger type than that step's strongest so
         * far: no new step, but the step's strongest type went up (a model reading strongest types
         * gets another input; one reading first types the same).
         */
        UPGRADED,
        /** Accepted; the history did not change (a repeat, or too old to fit). */
        UNCHANGED,
        LATE,
        DUPLICATE,
        /**
         * Beyond {@code maxEventsPerSecond} accepted events in the event-time second of the user's
         * newest accepted event: the state is left as it was (the event costs no history, no dedupe
         * entry and no inference).
         */
        RATE_LIMITED
    }

    /**
     * The state after one event; this state is left as it was.
     *
     * @param itemKey the item's key, {@link StableHash#of} its id
     */
    public Transition apply(String eventId, long itemKey, EventType type, long ts, Limits limits) {
        int window = limits.dedupeWindow();
        long hash = window > 0 ? StableHash.of(eventId) : 0;
        if (window > 0 && contains(recentEventHashes, hash)) {
            return new Transition(Applied.DUPLICATE, this);
        }
        if (newestTs != Long.MIN_VALUE && ts < newestTs - limits.allowedLatenessMs()) {
            return new Transition(Applied.LATE, this);
        }
        int maxPerSecond = limits.maxEventsPerSecond();
        // By event time, not the wall clock: a replay after a restore (exactly-once) meets the
        // same events in the same order per user and makes the same decisions. An event of an
        // earlier second than the newest accepted (out of order, within the lateness) counts
        // against the newest second, so back-dating does not get around the limit; a flood
        // dated ahead is bounded by --max-future-skew (the parser rejects it beyond that).
        long second = maxPerSecond > 0 ? Math.floorDiv(ts, 1000L) : 0;
        boolean newSecond = second > rateSecond;
        if (maxPerSecond > 0 && !newSecond && rateCount >= maxPerSecond) {
            return new Transition(Applied.RATE_LIMITED, this);
        }
        UserState next = copy();
        if (maxPerSecond > 0) {
            next.rateSecond = newSecond ? second : rateSecond;
            next.rateCount = newSecond ? 1 : rateCount + 1;
        }
        next.remember(hash, window);
        next.newestTs = Math.max(newestTs, ts);
        int n = itemKeys.length;
        int pos = n;
        while (pos > 0 && itemTimes[pos - 1] > ts) {
            pos--;
        }
        int repeated =
                pos > 0 && itemKeys[pos - 1] == itemKey
                        ? pos - 1
                        : pos < n && itemKeys[pos] == itemKey ? pos : -1;
        if (repeated >= 0) {
            byte[] strongest = strongestTypes();
            if (strength(type) <= strength(TYPES[strongest[repeated]])) {
                return new Transition(Applied.UNCHANGED, next);
            }
            next.itemStrongestTypes = strongest.clone();
            next.itemStrongestTypes[repeated] = (byte) type.ordinal();
            return new Transition(Applied.UPGRADED, next);
        }
        // The oldest steps that no longer fit; more than one after a restore with a lower cap.
        int drop = Math.max(0, n + 1 - limits.maxHistory());
        if (pos < drop) {
            return new Transition(Applied.UNCHANGED, next); // older than a full history
        }
        int size = n + 1 - drop;
        int at = pos - drop;
        next.itemKeys = withGap(itemKeys, new long[size], drop, at);
        next.itemKeys[at] = itemKey;
        next.itemTimes = withGap(itemTimes, new long[size], drop, at);
        next.itemTimes[at] = ts;
        next.itemTypes = withGap(itemTypes, new byte[size], drop, at);
        next.itemTypes[at] = (byte) type.ordinal();
        next.itemStrongestTypes = withGap(strongestTypes(), new byte[size], drop, at);
        next.itemStrongestTypes[at] = (byte) type.ordinal();
        return new Transition(Applied.APPENDED, next);
    }

    private static final EventType[] TYPES = EventType.values();

    /**
     * Rank of a type for the {@code strongest} repeat rule, as the model was trained with it
     * ({@code model/seqrec_model/data.py}): view &lt; click &lt; cart &lt; purchase, a rating (the
     * only type of rating data) with a purchase.
     */
    private static int strength(EventType type) {
        switch (type) {
            case VIEW:
                return 1;
            case CLICK:
                return 2;
            case CART:
                return 3;
            default:
                return 4;
        }
    }

    /**
     * Each step's strongest type (ordinal); the first types when the state has none for its steps
     * (written before they were kept). Never written in place, as every array of a state.
     */
    private byte[] strongestTypes() {
        return itemStrongestTypes != null && itemStrongestTypes.length == itemKeys.length
                ? itemStrongestTypes
                : itemTypes;
    }

    /** The type of step {@code step} that a model trained with {@code rule} reads. */
    public EventType typeOf(int step, ModelArtifact.RepeatRule rule) {
        byte[] types = rule == ModelArtifact.RepeatRule.STRONGEST ? strongestTypes() : itemTypes;
        return TYPES[types[step]];
    }

    /**
     * What {@code model} scores for this history: its indices of the last {@code max_len} items it
     * knows, oldest first, and, for a model that takes behaviors, each of those steps' behavior
     * code by the model's repeat rule (else {@code null}).
     */
    public record ModelRow(int[] items, int[] behaviors) {}

    /**
     * The row {@code model} scores for this history: its indices of the last {@code max_len} items
     * it knows, oldest first. Items it does not know are left out of the row, not out of the
     * history: they count as soon as a model that knows them reads it.
     */
    public int[] row(ModelArtifact model) {
        return modelRow(model).items();
    }

    /**
     * {@link #row} and, for a model that takes behaviors, their behaviors aligned with it: each
     * step's type by the model's repeat rule (first or strongest of its run), in the model's codes.
     * Unknown items are left out with their behaviors.
     */
    public ModelRow modelRow(ModelArtifact model) {
        int[] row = new int[Math.min(model.maxLen(), itemKeys.length)];
        boolean typed = model.takesBehaviors();
        int[] behaviors = typed ? new int[row.length] : null;
        int filled = 0;
        for (int i = itemKeys.length - 1; i >= 0 && filled < row.length; i--) {
            int index = model.indexOf(itemKeys[i]);
            if (index != 0) {
                row[row.length - ++filled] = index;
                if (typed) {
                    behaviors[row.length - filled] =
                            model.behaviorCode(typeOf(i, model.repeatRule()));
                }
            }
        }
        if (filled == row.length) {
            return new ModelRow(row, behaviors);
        }
        return new ModelRow(
                Arrays.copyOfRange(row, row.length - filled, row.length),
                typed ? Arrays.copyOfRange(behaviors, row.length - filled, row.length) : null);
    }

    /** The state after emitting recommendations {@code topKeys} (item keys, best first). */
    public UserState recommended(long[] topKeys) {
        UserState next = copy();
        next.lastTopKeys = topKeys;
        next.seq = seq + 1;
        return next;
    }

    /**
     * The state with {@link #newestStepCheck} set to {@code check}: {@link #NO_CHECK}, {@link
     * #CHECK_MISSED}, or a hit's rank plus one.
     */
    public UserState withNewestStepCheck(int check) {
        if (check == newestStepCheck) {
            return this;
        }
        UserState next = copy();
        next.newestStepCheck = check;
        return next;
    }

    /** A shallow copy: the arrays are shared, which is safe because none is written in place. */
    private UserState copy() {
        UserState c = new UserState();
        c.itemKeys = itemKeys;
        c.itemTypes = itemTypes;
        c.itemStrongestTypes = itemStrongestTypes;
        c.itemTimes = itemTimes;
        c.recentEventHashes = recentEventHashes;
        c.recentNext = recentNext;
        c.newestTs = newestTs;
        c.lastTopKeys = lastTopKeys;
        c.seq = seq;
        c.newestStepCheck = newestStepCheck;
        c.rateSecond = rateSecond;
        c.rateCount = rateCount;
        return c;
    }

    /**
     * Fills {@code to}, one longer than {@code from} less {@code drop}, with {@code from} without
     * its first {@code drop} entries, leaving {@code to[at]} for the new step; returns {@code to}.
     */
    private static <A> A withGap(A from, A to, int drop, int at) {
        int tail = Array.getLength(from) - drop - at;
        System.arraycopy(from, drop, to, 0, at);
        System.arraycopy(from, drop + at, to, at + 1, tail);
        return to;
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

    @Override
    public String toString() {
        return "UserState{history=" + itemKeys.length + " items, seq=" + seq + "}";
    }
}
