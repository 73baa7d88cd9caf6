package io.seqrec.model;

import java.io.Serializable;

/**
 * A map from {@code long} keys to {@code int} values without boxing: open addressing with linear
 * probing over two parallel arrays, kept at most half full so that a lookup, hit or miss, ends
 * after a probe or two. A model's item table ({@link ModelArtifact#indexOf(long)}) is one, read on
 * every event for every item of the user's history.
 *
 * <p>Key 0 marks an empty slot and cannot be stored; {@link #get} answers 0 for an absent key, so
 * values are non-zero. Not safe to write from several threads; once built, reads may be shared.
 */
final class LongIntMap implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final int MAX_CAPACITY = 1 << 30;

    private long[] keys;
    private int[] values;
    private int size;

    /** An empty map that holds {@code expectedSize} entries without growing. */
    LongIntMap(int expectedSize) {
        if (expectedSize < 0 || expectedSize > MAX_CAPACITY / 2) {
            throw new IllegalArgumentException("expected size out of range: " + expectedSize);
        }
        int capacity = Integer.highestOneBit(Math.max(1, 2 * expectedSize - 1)) << 1;
        keys = new long[capacity];
        values = new int[capacity];
    }

    /** The value of {@code key}, or 0 if it has none. */
    int get(long key) {
        int mask = keys.length - 1;
        for (int slot = Long.hashCode(key) & mask; keys[slot] != 0; slot = (slot + 1) & mask) {
            if (keys[slot] == key) {
                return values[slot];
            }
        }
        return 0;
    }

    /**
     * Maps {@code key} to {@code value}.
     *
     * @return the value {@code key} had, or 0 if it had none
     * @throws IllegalArgumentException if {@code key} or {@code value} is 0
     */
    int put(long key, int value) {
        if (key == 0 || value == 0) {
            throw new IllegalArgumentException("key and value must be non-zero");
        }
        int mask = keys.length - 1;
        int slot = Long.hashCode(key) & mask;
        while (keys[slot] != 0) {
            if (keys[slot] == key) {
                int before = values[slot];
                values[slot] = value;
                return before;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        values[slot] = value;
        size++;
        if (2 * size > keys.length) {
            grow();
        }
        return 0;
    }

    int size() {
        return size;
    }

    private void grow() {
        if (keys.length == MAX_CAPACITY) {
            throw new IllegalStateException("map full: " + size + " entries");
        }
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }
}
