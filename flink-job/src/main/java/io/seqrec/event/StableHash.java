package io.seqrec.event;

/**
 * The 64-bit hash seqrec keys ids by wherever the key outlives the process: an item's key (its
 * identity in each user's history and in every model's item table) and the hashes of recent event
 * ids (a user's dedupe ring). Both are stored in checkpoints and savepoints, so this function must
 * never change: a different hash would make every stored history name other items.
 *
 * <p>FNV-1a over the UTF-16 code units, then the SplitMix64 finalizer to spread short, similar ids
 * over all 64 bits. Never 0, which marks an empty slot in the dedupe ring and in the models' item
 * tables. Two different ids collide with probability ~2^-64 per comparison.
 */
public final class StableHash {
    private StableHash() {}

    /** The hash of {@code id}, never 0. */
    public static long of(String id) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < id.length(); i++) {
            h ^= id.charAt(i);
            h *= 0x100000001b3L;
        }
        h ^= h >>> 30;
        h *= 0xbf58476d1ce4e5b9L;
        h ^= h >>> 27;
        h *= 0x94d049bb133111ebL;
        h ^= h >>> 31;
        return h == 0 ? 1 : h;
    }
}
