package io.seqrec.cli;

import static io.seqrec.config.Values.nonEmpty;

import io.seqrec.bench.TrendingAgreement;
import io.seqrec.config.JobOptions;
import io.seqrec.config.Option;
import io.seqrec.generator.ReplaySource;
import io.seqrec.trending.TrendingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code seqrec trending-agreement}: the evidence behind per-subtask trending lists, on a replayed
 * or synthetic stream ({@link TrendingAgreement}).
 */
final class TrendingCommand {
    private TrendingCommand() {}

    static final Option<Long> EVENTS = SharedOptions.events("200000", 1000, "Events to replay.");
    static final Option<String> SOURCE =
            SharedOptions.replaySource(
                    "synthetic",
                    "Events to replay: a file (--format), or the synthetic generator.");
    static final Option<ReplaySource.Format> FORMAT = SharedOptions.REPLAY_FORMAT;
    static final Option<Integer> USERS = SharedOptions.REPLAY_USERS;
    static final Option<Long> SEED = SharedOptions.seed("42");
    static final Option<Double> RATE =
            SharedOptions.rate("100", "Events per second the stream is taken to arrive at.");
    static final Option<String> PARALLELISM =
            new Option<>(
                    "parallelisms",
                    "2,4,8",
                    "P,...",
                    "Parallelisms to compare with the whole stream.",
                    nonEmpty());

    static final Command COMMAND =
            new Command(
                    "trending-agreement",
                    "how close each subtask's trending top-10 is to the whole stream's",
                    List.of(
                            SOURCE,
                            FORMAT,
                            EVENTS,
                            USERS,
                            SEED,
                            RATE,
                            PARALLELISM,
                            JobOptions.TRENDING_HALF_LIFE,
                            JobOptions.TRENDING_CAPACITY),
                    false,
                    TrendingCommand::run);

    static int run(Flags f) throws Exception {
        String source = f.get(SOURCE);
        if (!source.equals("synthetic") && !Files.isRegularFile(Path.of(source))) {
            throw new UsageException("--source '" + source + "': no such file");
        }
        List<Integer> parallelisms = new ArrayList<>();
        for (String p : f.get(PARALLELISM).split(",")) {
            try {
                int n = Integer.parseInt(p.trim());
                if (n < 1 || n > 1024) {
                    throw new NumberFormatException();
                }
                parallelisms.add(n);
            } catch (NumberFormatException e) {
                throw new UsageException("--parallelisms: '" + p + "' is not a parallelism 1-1024");
            }
        }
        TrendingSettings settings =
                new TrendingSettings(
                        f.get(JobOptions.TRENDING_CAPACITY),
                        f.get(JobOptions.TRENDING_HALF_LIFE).toMillis());
        var events =
                TrendingAgreement.events(
                        source, f.get(FORMAT), f.get(EVENTS), f.get(USERS), f.get(SEED));
        System.out.printf(
                "%d events from %s; half-life %s, %d counters per sketch, %s events/s%n",
                events.size(),
                source,
                f.get(JobOptions.TRENDING_HALF_LIFE),
                settings.capacity(),
                f.get(RATE));
        TrendingAgreement.print(
                TrendingAgreement.measure(events, parallelisms, settings, f.get(RATE), 10, 2000),
                10);
        return 0;
    }
}
