package io.seqrec.trending;

import java.io.Serializable;

/**
 * How a subtask keeps trending items: a {@link TrendingSketch} of {@code capacity} counters whose
 * counts halve every {@code halfLifeMs} of event time.
 */
public record TrendingSettings(int capacity, long halfLifeMs) implements Serializable {
    public TrendingSketch newSketch() {
        return new TrendingSketch(capacity, halfLifeMs);
    }
}
