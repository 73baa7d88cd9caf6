package io.seqrec.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StableHashTest {
    /** Histories in savepoints name items by these values: the function must never change. */
    @Test
    void hashesAreTheOnesStoredInSavepoints() {
        assertThat(StableHash.of("item-00001")).isEqualTo(0x01341ba4252d0006L);
        assertThat(StableHash.of("e1")).isEqualTo(0xe0646ea9421d77e8L);
        assertThat(StableHash.of("")).isEqualTo(0xf52a15e9a9b5e89bL);
    }

    @Test
    void hashesDifferForSimilarIdsAndAreNeverZero() {
        Set<Long> hashes = new HashSet<>();
        for (int i = 0; i < 200_000; i++) {
            hashes.add(StableHash.of("e" + i));
            hashes.add(StableHash.of("user-7:" + i));
            hashes.add(StableHash.of(String.format("item-%05d", i)));
        }
        assertThat(hashes).hasSize(600_000).doesNotContain(0L);
    }
}
