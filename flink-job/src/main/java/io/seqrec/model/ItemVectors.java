package io.seqrec.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model's item embeddings scaled to unit length ({@value ModelArtifact#ITEM_VECTORS_FILE}): what
 * names the history item behind a recommendation ({@code because}). The item a model scores highest
 * is the one whose embedding its last hidden state points at; of the user's history items, the one
 * whose own embedding points the same way is the one that, removed, lowers that score most often
 * (measured: docs/BENCHMARKS.md, "Explanations"), far more often than the item the last block
 * attended to most. Immutable; reads only.
 */
public final class ItemVectors {
    private final int dim;
    // row i (i = item index, 1..num_items) at [i * dim, (i + 1) * dim); row 0 (padding) is zero
    private final float[] rows;

    private ItemVectors(int dim, float[] rows) {
        this.dim = dim;
        this.rows = rows;
    }

    /**
     * Reads the artifact's vectors: float32 little-endian, row-major {@code [num_items, dim]}.
     *
     * @throws ModelContractException if the artifact declares none, or the file is missing or not
     *     of the declared size
     */
    public static ItemVectors load(ModelArtifact artifact) {
        if (!artifact.hasItemVectors()) {
            throw new ModelContractException(
                    artifact.dir() + ": the artifact declares no item_vectors");
        }
        Path file = artifact.dir().resolve(ModelArtifact.ITEM_VECTORS_FILE);
        int n = artifact.numItems();
        int dim = artifact.itemVectorsDim();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelContractException(file + ": cannot read: " + e.getMessage(), e);
        }
        long expected = 4L * n * dim;
        if (bytes.length != expected) {
            throw new ModelContractException(
                    file
                            + ": "
                            + bytes.length
                            + " bytes, but "
                            + n
                            + " items of "
                            + dim
                            + " float32 need "
                            + expected);
        }
        float[] rows = new float[(n + 1) * dim];
        ByteBuffer.wrap(bytes)
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer()
                .get(rows, dim, n * dim);
        return new ItemVectors(dim, rows);
    }

    /** Cosine similarity of items {@code a} and {@code b} (indices 1..num_items). */
    public double similarity(int a, int b) {
        double sum = 0;
        int ra = a * dim;
        int rb = b * dim;
        for (int k = 0; k < dim; k++) {
            sum += (double) rows[ra + k] * rows[rb + k];
        }
        return sum;
    }

    /**
     * The position in {@code row[from..to)} (item indices) whose item is most similar to {@code
     * target}, the latest of equals; -1 if the range is empty or {@code target} is not an item.
     */
    public int mostSimilarPosition(int[] row, int from, int to, int target) {
        if (!isItem(target)) {
            return -1;
        }
        int best = -1;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            double s = similarity(row[i], target);
            if (s >= max) {
                max = s;
                best = i;
            }
        }
        return best;
    }

    /**
     * Intra-list diversity of a list by these vectors: 1 − the mean pairwise cosine similarity of
     * its items that have one ({@code indices[i]} in 1..num_items; 0 = an item the model does not
     * know, left out); NaN with fewer than two such items. {@code seqrec_model evaluate} reports
     * the same as {@code ild_vectors}.
     */
    public double listDiversity(int[] indices) {
        double similarity = 0;
        int pairs = 0;
        for (int a = 0; a < indices.length; a++) {
            if (!isItem(indices[a])) {
                continue;
            }
            for (int b = a + 1; b < indices.length; b++) {
                if (isItem(indices[b])) {
                    similarity += similarity(indices[a], indices[b]);
                    pairs++;
                }
            }
        }
        return pairs == 0 ? Double.NaN : 1 - similarity / pairs;
    }

    private boolean isItem(int index) {
        return index >= 1 && (index + 1) * dim <= rows.length;
    }

    /** As {@link #mostSimilarPosition(int[], int, int, int)} over a sequence of long indices. */
    public int mostSimilarPosition(long[] sequence, int target) {
        int[] row = new int[sequence.length];
        for (int i = 0; i < row.length; i++) {
            row[i] = (int) sequence[i];
        }
        return mostSimilarPosition(row, 0, row.length, target);
    }
}
