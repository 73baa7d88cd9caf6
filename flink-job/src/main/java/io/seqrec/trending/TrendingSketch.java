package io.seqrec.trending;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Time-decayed item popularity in bounded memory: the Space-Saving heavy-hitters algorithm
 * (Metwally et al., 2005) over exponentially decayed counts, kept with forward decay (Cormode et
 * al., 2009) so that an arrival never touches the other counters.
 *
 * <p>An interaction at event time {@code t} with weight {@code w} adds {@code w * 2^((t - L) /
 * halfLife)} to its item's counter, for a landmark time {@code L}: comparing counters then compares
 * the decayed counts {@code sum w * 2^(-(now - t) / halfLife)}, for any {@code now}. When the
 * factor grows large the counters are all rescaled and the landmark moved, which keeps their order.
 * At most {@code capacity} items are counted: an item that is not, arriving when all counters are
 * taken, replaces the one with the smallest count and inherits that count as its possible
 * overestimate ({@link Entry#error}). Every item whose true decayed count exceeds the total weight
 * divided by {@code capacity} is guaranteed a counter; the top few of a skewed stream are exact or
 * nearly so ({@code TrendingSketchTest} measures it against exact counts).
 *
 * <p>One per subtask, used by its task thread only. Event times (not the wall clock) drive the
 * decay, so replaying a stream rebuilds the same counts.
 */
public final class TrendingSketch {
    /**
     * Rescale before 2^RESCALE_EXPONENT: far from double overflow, far below its precision loss.
     */
    private static final double RESCALE_EXPONENT = 60;

    private final int capacity;
    private final double halfLifeMs;

    private long landmarkMs = Long.MIN_VALUE;
    private int size;
    private final long[] keys;
    private final String[] ids;
    private final double[] counts;
    private final double[] errors;
    private final int[] heap; // slots by count, smallest first
    private final int[] heapIndex; // slot -> its position in heap
    private final Map<Long, Integer> slotByKey;

    /** An item's decayed count as of the sketch's landmark, and how much of it may be inherited. */
    public record Entry(long key, String id, double count, double error) {}

    public TrendingSketch(int capacity, long halfLifeMs) {
        if (capacity < 1 || halfLifeMs < 1) {
            throw new IllegalArgumentException("capacity and half-life must be positive");
        }
        this.capacity = capacity;
        this.halfLifeMs = halfLifeMs;
        keys = new long[capacity];
        ids = new String[capacity];
        counts = new double[capacity];
        errors = new double[capacity];
        heap = new int[capacity];
        heapIndex = new int[capacity];
        slotByKey = new HashMap<>(capacity * 2);
    }

    public int capacity() {
        return capacity;
    }

    /** Items counted now: never more than {@link #capacity}. */
    public int size() {
        return size;
    }

    /** Counts one interaction with the item {@code key} ({@code id} is kept for output). */
    public void add(long key, String id, long tsMs, double weight) {
        if (landmarkMs == Long.MIN_VALUE) {
            landmarkMs = tsMs;
        }
        double exponent = (tsMs - landmarkMs) / halfLifeMs;
        if (exponent > RESCALE_EXPONENT) {
            rescale(tsMs);
            exponent = 0;
        }
        double w = weight * Math.pow(2, exponent);
        Integer slot = slotByKey.get(key);
        if (slot != null) {
            counts[slot] += w;
            siftDown(heapIndex[slot]);
            return;
        }
        if (size < capacity) {
            int s = size++;
            keys[s] = key;
            ids[s] = id;
            counts[s] = w;
            errors[s] = 0;
            heap[s] = s;
            heapIndex[s] = s;
            slotByKey.put(key, s);
            siftUp(s);
            return;
        }
        // Space-Saving: the new item takes the smallest counter over, with its count as the error.
        int s = heap[0];
        slotByKey.remove(keys[s]);
        double inherited = counts[s];
        keys[s] = key;
        ids[s] = id;
        counts[s] = inherited + w;
        errors[s] = inherited;
        slotByKey.put(key, s);
        siftDown(0);
    }

    /**
     * The {@code n} items with the largest counts, largest first (ties by key). One pass keeping
     * the best {@code n} in a small sorted array: the job asks for this once per micro-batch, so it
     * must cost microseconds, not a sort of every counter.
     */
    public List<Entry> top(int n) {
        int limit = Math.min(n, size);
        int[] best = new int[limit];
        int filled = 0;
        for (int s = 0; s < size; s++) {
            if (filled == limit && !before(s, best[limit - 1])) {
                continue;
            }
            int pos = filled < limit ? filled++ : limit - 1;
            while (pos > 0 && before(s, best[pos - 1])) {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = s;
        }
        List<Entry> out = new ArrayList<>(limit);
        for (int i = 0; i < filled; i++) {
            int s = best[i];
            out.add(new Entry(keys[s], ids[s], counts[s], errors[s]));
        }
        return out;
    }

    /**
     * Whether slot {@code a} ranks before slot {@code b}: a larger count, or equal and a smaller
     * key.
     */
    private boolean before(int a, int b) {
        return counts[a] > counts[b] || (counts[a] == counts[b] && keys[a] < keys[b]);
    }

    /** Moves the landmark to {@code tsMs}: every counter scaled by the same factor. */
    private void rescale(long tsMs) {
        double factor = Math.pow(2, -(tsMs - landmarkMs) / halfLifeMs);
        for (int s = 0; s < size; s++) {
            counts[s] *= factor;
            errors[s] *= factor;
        }
        landmarkMs = tsMs;
    }

    private void siftUp(int i) {
        int s = heap[i];
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (counts[heap[parent]] <= counts[s]) {
                break;
            }
            place(i, heap[parent]);
            i = parent;
        }
        place(i, s);
    }

    private void siftDown(int i) {
        int s = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && counts[heap[child + 1]] < counts[heap[child]]) {
                child++;
            }
            if (counts[s] <= counts[heap[child]]) {
                break;
            }
            place(i, heap[child]);
            i = child;
        }
        place(i, s);
    }

    private void place(int i, int slot) {
        heap[i] = slot;
        heapIndex[slot] = i;
    }

    /** The sketch as bytes, for operator state. */
    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 + size * 40);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(1); // format
            out.writeLong(landmarkMs);
            out.writeInt(size);
            for (int s = 0; s < size; s++) {
                out.writeLong(keys[s]);
                out.writeUTF(ids[s]);
                out.writeDouble(counts[s]);
                out.writeDouble(errors[s]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * A sketch of {@code capacity} holding the sum of {@code snapshots} (each from {@link
     * #toBytes}, brought to a common landmark) times {@code scale}, keeping the largest counts if
     * together they hold more items than fit. After a rescale each subtask restores the merge of
     * all subtasks' sketches scaled by one over the new parallelism: the same ranking, with counts
     * of the size its own share of traffic adds to.
     */
    public static TrendingSketch merge(
            Collection<byte[]> snapshots, int capacity, long halfLifeMs, double scale) {
        record Saved(long landmark, long key, String id, double count, double error) {}
        List<Saved> all = new ArrayList<>();
        long landmark = Long.MIN_VALUE;
        for (byte[] snapshot : snapshots) {
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
                if (in.readInt() != 1) {
                    throw new IllegalStateException("unknown trending sketch format");
                }
                long l = in.readLong();
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    all.add(
                            new Saved(
                                    l,
                                    in.readLong(),
                                    in.readUTF(),
                                    in.readDouble(),
                                    in.readDouble()));
                }
                landmark = Math.max(landmark, l);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Map<Long, double[]> sums = new HashMap<>();
        Map<Long, String> idByKey = new HashMap<>();
        for (Saved s : all) {
            double factor = scale * Math.pow(2, -(landmark - s.landmark()) / (double) halfLifeMs);
            double[] sum = sums.computeIfAbsent(s.key(), k -> new double[2]);
            sum[0] += s.count() * factor;
            sum[1] += s.error() * factor;
            idByKey.put(s.key(), s.id());
        }
        List<Map.Entry<Long, double[]>> ranked = new ArrayList<>(sums.entrySet());
        ranked.sort(
                Comparator.<Map.Entry<Long, double[]>>comparingDouble(e -> -e.getValue()[0])
                        .thenComparingLong(Map.Entry::getKey));
        TrendingSketch out = new TrendingSketch(capacity, halfLifeMs);
        out.landmarkMs = landmark;
        for (Map.Entry<Long, double[]> e : ranked.subList(0, Math.min(capacity, ranked.size()))) {
            int s = out.size++;
            out.keys[s] = e.getKey();
            out.ids[s] = idByKey.get(e.getKey());
            out.counts[s] = e.getValue()[0];
            out.errors[s] = e.getValue()[1];
            out.heap[s] = s;
            out.heapIndex[s] = s;
            out.slotByKey.put(e.getKey(), s);
            out.siftUp(s);
        }
        return out;
    }
}
