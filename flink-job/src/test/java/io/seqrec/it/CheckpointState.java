package io.seqrec.it;

import io.seqrec.pipeline.RecommendOperator;
import io.seqrec.pipeline.RecommenderJob;
import io.seqrec.pipeline.UserState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/** The job's retained checkpoints, read as Flink restores them (State Processor API). */
final class CheckpointState {
    private CheckpointState() {}

    /** The newest complete checkpoint under {@code dir} (a {@code chk-N} with its metadata). */
    static Path latest(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.getFileName().toString().equals("_metadata"))
                    .map(Path::getParent)
                    .max(Comparator.comparingLong(CheckpointState::checkpointId))
                    .orElseThrow(() -> new AssertionError("no complete checkpoint in " + dir));
        }
    }

    private static long checkpointId(Path chk) {
        return Long.parseLong(chk.getFileName().toString().substring("chk-".length()));
    }

    /**
     * Every user key the recommend operator's state holds in {@code checkpoint}, with the length of
     * its history; {@code stateTtlMs} as the job ran with it (the reader declares the state as the
     * operator does).
     */
    static Map<String, Integer> historyLengths(Path checkpoint, long stateTtlMs) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        SavepointReader reader =
                SavepointReader.read(
                        env, checkpoint.toUri().toString(), new EmbeddedRocksDBStateBackend(true));
        Map<String, Integer> lengths = new TreeMap<>();
        try (var users =
                reader.readKeyedState(
                                OperatorIdentifier.forUid(RecommenderJob.RECOMMEND_UID),
                                new HistoryLength(stateTtlMs))
                        .executeAndCollect()) {
            users.forEachRemaining(u -> lengths.put(u.user(), u.steps()));
        }
        return lengths;
    }

    /** A user key and the length of its history, as stored. */
    public record StoredUser(String user, int steps) {}

    /** Reads each user's state as the operator declares it (same name, same time to live). */
    static final class HistoryLength extends KeyedStateReaderFunction<String, StoredUser> {
        private final long stateTtlMs;
        private transient ValueState<UserState> state;

        HistoryLength(long stateTtlMs) {
            this.stateTtlMs = stateTtlMs;
        }

        @Override
        public void open(OpenContext context) {
            state = getRuntimeContext().getState(RecommendOperator.userStateDescriptor(stateTtlMs));
        }

        @Override
        public void readKey(String key, Context ctx, Collector<StoredUser> out) throws Exception {
            UserState s = state.value();
            out.collect(new StoredUser(key, s == null ? -1 : s.itemKeys.length));
        }
    }
}
