package io.seqrec.bench;

import io.seqrec.generator.ReplaySource;
import io.seqrec.model.BatchScorer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@code seqrec bench} was asked to run, besides the job options.
 *
 * @param source {@code synthetic}, a replay file, or {@code null} for ML-1M if present
 * @param format the replay file's format, {@code null} for ml-1m
 * @param users replayed users active at a time, or synthetic users; {@code null} for the default of
 *     each (200, 500)
 * @param warmup events of the unmeasured warm-up, {@code null} for the default
 * @param naiveModel the served model exported with the full graph, or {@code null}
 * @param soak a soak run's duration, or {@code null} for the phases
 * @param rate the soak's rate in events per second
 * @param swap whether to add the phase that swaps the model halfway at 50 % load
 * @param history the users' histories when the measured events arrive
 */
public record BenchSettings(
        long events,
        String source,
        ReplaySource.Format format,
        Integer users,
        long seed,
        BatchScorer.Padding padding,
        boolean baselines,
        Long warmup,
        Path naiveModel,
        int repeat,
        Duration soak,
        double rate,
        boolean swap,
        History history) {

    /** The same with another number of events. */
    BenchSettings withEvents(long n) {
        return new BenchSettings(
                n,
                source,
                format,
                users,
                seed,
                padding,
                baselines,
                warmup,
                naiveModel,
                repeat,
                soak,
                rate,
                swap,
                history);
    }

    /** The users' histories when the measured events arrive. */
    public enum History {
        /** Users start from their first event: most sequences are short. */
        REPLAY,
        /**
         * Users have full histories: each measured user's first {@code --max-history} events are
         * streamed through the job, unmeasured, before the measured ones (a job that has run for
         * weeks).
         */
        WARM
    }
}
