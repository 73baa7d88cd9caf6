package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LongIntMapTest {
    /** Keys whose {@link Long#hashCode} is 0: all of them start probing at the same slot. */
    private static long sameHomeSlot(int j) {
        return ((long) j << 32) | j;
    }

    @Test
    void findsEveryKeyOfAChainOfCollisions() {
        LongIntMap map = new LongIntMap(64);
        for (int j = 1; j <= 64; j++) {
            assertThat(map.put(sameHomeSlot(j), j)).isZero();
        }
        for (int j = 1; j <= 64; j++) {
            assertThat(map.get(sameHomeSlot(j))).isEqualTo(j);
        }
        // an absent key with the same home slot walks the whole chain and finds nothing
        assertThat(map.get(sameHomeSlot(65))).isZero();
        assertThat(map.size()).isEqualTo(64);
    }

    @Test
    void chainsWrapAroundTheEndOfTheTable() {
        LongIntMap map = new LongIntMap(4); // 8 slots
        long lastSlot = 7;
        long alsoLastSlot = 7 + (8L << 32) + 8; // hashCode 7 ^ 8 ^ 8 = 7
        long andAgain = 7 + (16L << 32) + 16;
        map.put(lastSlot, 1);
        map.put(alsoLastSlot, 2);
        map.put(andAgain, 3);
        assertThat(map.get(lastSlot)).isEqualTo(1);
        assertThat(map.get(alsoLastSlot)).isEqualTo(2);
        assertThat(map.get(andAgain)).isEqualTo(3);
    }

    @Test
    void absentKeysAnswerZero() {
        LongIntMap map = new LongIntMap(0);
        assertThat(map.get(42)).isZero();
        assertThat(map.get(0)).isZero();
        map.put(42, 7);
        assertThat(map.get(43)).isZero();
        assertThat(map.get(-42)).isZero();
    }

    @Test
    void putReplacesAndReturnsThePreviousValue() {
        LongIntMap map = new LongIntMap(2);
        assertThat(map.put(5, 1)).isZero();
        assertThat(map.put(5, 2)).isEqualTo(1);
        assertThat(map.get(5)).isEqualTo(2);
        assertThat(map.size()).isEqualTo(1);
    }

    @Test
    void growsPastItsExpectedSizeAndAgreesWithAHashMap() {
        SplittableRandom random = new SplittableRandom(3);
        LongIntMap map = new LongIntMap(1);
        Map<Long, Integer> reference = new HashMap<>();
        for (int i = 1; i <= 5_000; i++) {
            long key = random.nextLong();
            if (key == 0) {
                continue;
            }
            map.put(key, i);
            reference.put(key, i);
        }
        assertThat(map.size()).isEqualTo(reference.size());
        reference.forEach((k, v) -> assertThat(map.get(k)).isEqualTo(v));
        assertThat(map.get(random.nextLong())).isZero();
    }

    @Test
    void refusesTheMarkersOfEmpty() {
        LongIntMap map = new LongIntMap(1);
        assertThatThrownBy(() -> map.put(0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> map.put(1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(map.size()).isZero();
    }
}
