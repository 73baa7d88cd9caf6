package io.seqrec.model;

import io.seqrec.event.EventType;
import java.util.Arrays;

/**
 * Scores a batch of variable-length sequences with one {@link SequenceScorer} (the model of one
 * subtask), deciding how the rows are padded and grouped into model calls. One instance per model
 * (per subtask); not thread-safe. Buffers are reused from batch to batch.
 *
 * <p>A type-aware model ({@link ModelArtifact#takesBehaviors}) gets each row's behavior codes
 * beside its items, padded and trimmed alike.
 *
 * <p>The model right-aligns positions, so leading padding never changes a row's scores: every
 * {@link Padding} gives the same scores (within float rounding of a different summation order in
 * ONNX Runtime's kernels), they differ only in cost.
 */
public final class BatchScorer {
    /** How rows are padded and grouped. */
    public enum Padding {
        /**
         * Rows sorted by length and split into groups where that saves work (a cost model of one
         * call's overhead against the padded positions it avoids); each group is trimmed to its
         * longest row. The default.
         */
        BUCKETED,
        /** One call per batch, trimmed to the longest row in it. */
        LONGEST,
        /**
         * One call per batch, every row padded to the model's {@code max_len}: the naive baseline
         * of published Flink inference demos, for benchmarks only.
         */
        FULL
    }

    /** Padded lengths are rounded up to this, to keep the number of distinct shapes small. */
    static final int LENGTH_QUANTUM = 8;

    // Cost model of one call, in microseconds on one core (ML-1M-sized SASRec, d=64, 2 blocks,
    // raw ORT, batch 32): per row of length L about L * (1.7 + 0.0075 L), fitted to 40 / 102 /
    // 248 / 644 µs per row measured at L = 20 / 50 / 100 / 200 (the first block's attention is
    // quadratic in L), plus a fixed cost per call. Only the ratio matters for where groups are
    // split.
    private static final double PER_POSITION = 1.7;
    private static final double PER_POSITION_SQUARED = 0.0075;
    private static final double PER_CALL = 60;

    private final SequenceScorer model;
    private final Padding padding;
    private final int maxLen;
    private final int width;
    private final boolean withAttention;
    private final boolean takesBehaviors;

    /** The behavior of the warm-up rows: a view, for a model that takes behaviors. */
    private final int warmUpBehavior;

    private long[] input = new long[0];
    private long[] behaviorInput = new long[0];
    private Integer[] order = new Integer[0];
    private double[] best = new double[0];
    private int[] cut = new int[0];
    private float[][] groupScores = new float[0][];
    private float[][] groupAttention = new float[0][];
    private int[] rowAttentionBase = new int[0];
    private int[] rowStart = new int[0];
    private int[] rowGroup = new int[0];
    private int[] rowOffset = new int[0];
    private int groups;

    /** Scores with {@code model}, which serves {@code artifact} (for max_len and num_items). */
    public BatchScorer(SequenceScorer model, ModelArtifact artifact, Padding padding) {
        this(model, artifact, padding, false);
    }

    /**
     * As {@link #BatchScorer(SequenceScorer, ModelArtifact, Padding)}; with {@code withAttention}
     * also keeps the model's attention output, if it has one, for {@link #strongestPosition}.
     */
    public BatchScorer(
            SequenceScorer model, ModelArtifact artifact, Padding padding, boolean withAttention) {
        this.model = model;
        this.padding = padding;
        this.maxLen = artifact.maxLen();
        this.width = artifact.numItems() + 1;
        this.withAttention = withAttention && artifact.hasAttention();
        this.takesBehaviors = artifact.takesBehaviors();
        this.warmUpBehavior = takesBehaviors ? artifact.behaviorCode(EventType.VIEW) : 0;
    }

    /**
     * Scores {@code rows[0..n)} (item indices, oldest first, each of length 0..max_len). Afterwards
     * row {@code r}'s {@code num_items + 1} scores are {@link #scores}{@code (r)} from {@link
     * #offset}{@code (r)}; they stay valid (and may be modified) until the next call.
     *
     * @throws IllegalArgumentException if the model takes behaviors: use {@link #score(int[][],
     *     int[][], int)}
     */
    public void score(int[][] rows, int n) {
        score(rows, null, n);
    }

    /**
     * As {@link #score(int[][], int)}, with {@code behaviors[r]} the behavior codes of row {@code
     * r}'s steps (as long as the row), for a model that takes them; {@code null} for one that does
     * not.
     *
     * @throws IllegalArgumentException if {@code behaviors} is missing for a model that takes them,
     *     or given to one that does not
     */
    public void score(int[][] rows, int[][] behaviors, int n) {
        if ((behaviors != null) != takesBehaviors) {
            throw new IllegalArgumentException(
                    takesBehaviors
                            ? "the model takes each step's behavior; none given"
                            : "the model takes no behaviors");
        }
        ensureCapacity(n);
        for (int r = 0; r < n; r++) {
            order[r] = r;
        }
        if (padding == Padding.FULL) {
            runGroup(rows, behaviors, 0, n, maxLen, 0);
            groups = 1;
            return;
        }
        if (padding == Padding.LONGEST) {
            int longest = 1;
            for (int r = 0; r < n; r++) {
                longest = Math.max(longest, rows[r].length);
            }
            runGroup(rows, behaviors, 0, n, paddedLength(longest), 0);
            groups = 1;
            return;
        }
        Arrays.sort(order, 0, n, (a, b) -> Integer.compare(rows[a].length, rows[b].length));
        // best[j] = cheapest cost of rows order[0..j) split into groups; cut[j] = start of the
        // last group. Groups are runs of the length-sorted rows.
        best[0] = 0;
        for (int j = 1; j <= n; j++) {
            int len = paddedLength(rows[order[j - 1]].length);
            double perRow = len * (PER_POSITION + PER_POSITION_SQUARED * len);
            double min = Double.MAX_VALUE;
            int at = 0;
            for (int i = 0; i < j; i++) {
                double c = best[i] + PER_CALL + (j - i) * perRow;
                if (c < min) {
                    min = c;
                    at = i;
                }
            }
            best[j] = min;
            cut[j] = at;
        }
        int count = 0;
        for (int j = n; j > 0; j = cut[j]) {
            count++;
        }
        groups = count;
        int g = count - 1;
        for (int j = n; j > 0; j = cut[j], g--) {
            int from = cut[j];
            runGroup(rows, behaviors, from, j, paddedLength(rows[order[j - 1]].length), g);
        }
    }

    /**
     * Runs rows {@code order[from..to)} (and their behaviors, if given) padded to {@code len} as
     * one call, as group {@code g}.
     */
    private void runGroup(int[][] rows, int[][] behaviors, int from, int to, int len, int g) {
        int count = to - from;
        int cells = count * len;
        if (input.length < cells) {
            input = new long[Math.max(cells, input.length * 2)];
        }
        Arrays.fill(input, 0, cells, 0L);
        if (behaviors != null) {
            if (behaviorInput.length < cells) {
                behaviorInput = new long[input.length];
            }
            Arrays.fill(behaviorInput, 0, cells, 0L);
        }
        for (int k = 0; k < count; k++) {
            int r = order[from + k];
            int[] row = rows[r];
            int start = row.length > len ? row.length - len : 0;
            int base = k * len + len - (row.length - start);
            for (int i = start; i < row.length; i++) {
                input[base + i - start] = row[i];
            }
            if (behaviors != null) {
                int[] codes = behaviors[r];
                if (codes.length != row.length) {
                    throw new IllegalArgumentException(
                            "row "
                                    + r
                                    + " has "
                                    + row.length
                                    + " items but "
                                    + codes.length
                                    + " behaviors");
                }
                for (int i = start; i < row.length; i++) {
                    behaviorInput[base + i - start] = codes[i];
                }
            }
        }
        SequenceScorer.Output out =
                model.run(
                        input, behaviors != null ? behaviorInput : null, count, len, withAttention);
        groupScores[g] = out.scores();
        groupAttention[g] = out.attention();
        for (int k = 0; k < count; k++) {
            int r = order[from + k];
            int length = rows[r].length;
            rowGroup[r] = g;
            rowOffset[r] = k * width;
            // row item i (i >= rowStart) sat at input position k * len + len - length + i
            rowAttentionBase[r] = k * len + len - length;
            rowStart[r] = length > len ? length - len : 0;
        }
    }

    private int paddedLength(int length) {
        int rounded =
                ((Math.max(1, length) + LENGTH_QUANTUM - 1) / LENGTH_QUANTUM) * LENGTH_QUANTUM;
        return Math.min(maxLen, rounded);
    }

    private void ensureCapacity(int n) {
        if (order.length < n) {
            order = new Integer[n];
            best = new double[n + 1];
            cut = new int[n + 1];
            groupScores = new float[n][];
            groupAttention = new float[n][];
            rowGroup = new int[n];
            rowOffset = new int[n];
            rowAttentionBase = new int[n];
            rowStart = new int[n];
        }
    }

    /**
     * Scores one batch of every shape this scorer will use (each padded length, one row and {@code
     * batchSize} rows), so that ONNX Runtime's first calls of a shape (memory planning, buffer
     * allocation) and the first calls of this code happen before the first real request rather than
     * in it. Returns the model calls made.
     */
    public int warmUp(int batchSize) {
        int calls = 0;
        for (int len = LENGTH_QUANTUM; ; len += LENGTH_QUANTUM) {
            int padded = Math.min(len, maxLen);
            int[] row = new int[padded];
            Arrays.fill(row, 1);
            int[] codes = new int[padded];
            Arrays.fill(codes, warmUpBehavior);
            for (int n : new int[] {1, batchSize}) {
                int[][] rows = new int[n][];
                Arrays.fill(rows, row);
                int[][] behaviors = null;
                if (takesBehaviors) {
                    behaviors = new int[n][];
                    Arrays.fill(behaviors, codes);
                }
                score(rows, behaviors, n);
                calls += groups;
            }
            if (padded == maxLen) {
                return calls;
            }
        }
    }

    /** The score array holding row {@code r} of the last batch. */
    public float[] scores(int r) {
        return groupScores[rowGroup[r]];
    }

    /** Where row {@code r}'s scores start in {@link #scores}{@code (r)}. */
    public int offset(int r) {
        return rowOffset[r];
    }

    /**
     * The position in row {@code r} (an index into the row as passed to {@link #score}) that the
     * model's last block attended to most from the last position, the latest of equal weights; -1
     * if the model gave no attention (none asked for, none in the graph, or an empty row).
     */
    public int strongestPosition(int r, int rowLength) {
        float[] attention = groupAttention[rowGroup[r]];
        if (attention == null || rowLength == 0) {
            return -1;
        }
        int best = -1;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = rowStart[r]; i < rowLength; i++) {
            float w = attention[rowAttentionBase[r] + i];
            if (w >= max) {
                max = w;
                best = i;
            }
        }
        return best;
    }

    /** Model calls the last batch took. */
    public int calls() {
        return groups;
    }

    public Padding padding() {
        return padding;
    }
}
