package io.seqrec.kafka;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaWriterState;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.connector.sink2.SupportsPostCommitTopology;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.lineage.LineageVertex;
import org.apache.flink.streaming.api.lineage.LineageVertexProvider;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTransactionsResult;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exactly-once {@link KafkaSink} that does not commit again a restored transaction the broker
 * reports as committed. Writer, state, committables and topology are the wrapped sink's.
 *
 * <p>On restore Flink hands the committer the transactions of the checkpoint it restores, whose
 * commit usually went through before the failure (it follows the checkpoint's completion within
 * milliseconds). Committing one again is a no-op under Kafka's transaction protocol version 1, but
 * new Kafka 4 clusters run version 2, which bumps the producer epoch when a transaction ends, and
 * the connector (5.0) resumes the transaction with the checkpointed epoch on a new producer that
 * commits by version 1 rules: the broker answers PRODUCER_FENCED and the connector logs an ERROR
 * that this "most likely signals data loss" while the records are committed (docs/RELIABILITY.md).
 *
 * <p>So the broker is asked first, for restored transactions only (those without a live producer):
 * one in CompleteCommit under the committable's producer id, at its epoch or the next, is this very
 * transaction, committed: with INCREMENTING transaction naming an id carries the transaction of one
 * checkpoint, and the ids up to a restored checkpoint are not used again. It is marked as already
 * committed. Everything else (open, aborted, another producer id, the broker not answering) goes to
 * the connector's committer as before, so a transaction that was really lost is still reported.
 */
public final class CommitOnceKafkaSink<T>
        implements SupportsWriterState<T, KafkaWriterState>,
                SupportsCommitter<KafkaCommittable>,
                SupportsPostCommitTopology<KafkaCommittable>,
                LineageVertexProvider,
                Sink<T> {
    private static final long serialVersionUID = 1L;

    private final KafkaSink<T> sink;
    private final Properties adminProperties;

    /**
     * @param sink an exactly-once sink with INCREMENTING transaction naming
     * @param adminProperties client properties for an admin client of the sink's cluster
     */
    CommitOnceKafkaSink(KafkaSink<T> sink, Properties adminProperties) {
        this.sink = sink;
        this.adminProperties = adminProperties;
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) throws IOException {
        return sink.createWriter(context);
    }

    @Override
    public StatefulSinkWriter<T, KafkaWriterState> restoreWriter(
            WriterInitContext context, Collection<KafkaWriterState> recoveredState) {
        return sink.restoreWriter(context, recoveredState);
    }

    @Override
    public SimpleVersionedSerializer<KafkaWriterState> getWriterStateSerializer() {
        return sink.getWriterStateSerializer();
    }

    @Override
    public Committer<KafkaCommittable> createCommitter(CommitterInitContext context) {
        return new SkipCommittedCommitter(sink.createCommitter(context), adminProperties);
    }

    @Override
    public SimpleVersionedSerializer<KafkaCommittable> getCommittableSerializer() {
        return sink.getCommittableSerializer();
    }

    @Override
    public void addPostCommitTopology(DataStream<CommittableMessage<KafkaCommittable>> committer) {
        // Co-locates writer and committer: they share the producers of live transactions.
        sink.addPostCommitTopology(committer);
    }

    @Override
    public LineageVertex getLineageVertex() {
        return sink.getLineageVertex();
    }

    /** Marks restored transactions the broker reports as committed; passes on the rest. */
    static final class SkipCommittedCommitter implements Committer<KafkaCommittable> {
        private static final Logger LOG = LoggerFactory.getLogger(CommitOnceKafkaSink.class);

        private final Committer<KafkaCommittable> delegate;
        private final Properties adminProperties;

        SkipCommittedCommitter(Committer<KafkaCommittable> delegate, Properties adminProperties) {
            this.delegate = delegate;
            this.adminProperties = adminProperties;
        }

        @Override
        public void commit(Collection<CommitRequest<KafkaCommittable>> requests)
                throws IOException, InterruptedException {
            List<String> restored = new ArrayList<>();
            for (CommitRequest<KafkaCommittable> r : requests) {
                if (r.getCommittable().getProducer().isEmpty()) {
                    restored.add(r.getCommittable().getTransactionalId());
                }
            }
            Map<String, TransactionDescription> onBroker = describe(restored);
            List<CommitRequest<KafkaCommittable>> toCommit = new ArrayList<>(requests.size());
            for (CommitRequest<KafkaCommittable> r : requests) {
                KafkaCommittable c = r.getCommittable();
                TransactionDescription d = onBroker.get(c.getTransactionalId());
                if (committedBefore(c, d)) {
                    LOG.info(
                            "Restored transaction {} (producer id {}, epoch {}) was committed"
                                    + " before the restart (the broker reports {} at epoch {}): not"
                                    + " committing it again",
                            c.getTransactionalId(),
                            c.getProducerId(),
                            c.getEpoch(),
                            d.state(),
                            d.producerEpoch());
                    r.signalAlreadyCommitted();
                } else {
                    toCommit.add(r);
                }
            }
            delegate.commit(toCommit);
        }

        /**
         * Whether the broker's state of a committable's transactional id ({@code null}: unknown)
         * shows that very transaction committed: the epoch stays under protocol version 1 and is
         * bumped by one under version 2.
         */
        static boolean committedBefore(KafkaCommittable c, TransactionDescription d) {
            return d != null
                    && d.state() == TransactionState.COMPLETE_COMMIT
                    && d.producerId() == c.getProducerId()
                    && (d.producerEpoch() == c.getEpoch() || d.producerEpoch() == c.getEpoch() + 1);
        }

        private Map<String, TransactionDescription> describe(List<String> transactionalIds)
                throws InterruptedException {
            Map<String, TransactionDescription> found = new HashMap<>();
            if (transactionalIds.isEmpty()) {
                return found;
            }
            try (Admin admin = Admin.create(adminProperties)) {
                DescribeTransactionsResult result = admin.describeTransactions(transactionalIds);
                for (String id : transactionalIds) {
                    try {
                        found.put(id, result.description(id).get());
                    } catch (ExecutionException e) {
                        LOG.warn(
                                "Cannot read the state of restored transaction {} from the broker"
                                        + " ({}): committing it as usual",
                                id,
                                e.getCause().toString());
                    }
                }
            } catch (KafkaException e) {
                LOG.warn(
                        "Cannot ask the broker about restored transactions {} ({}): committing them"
                                + " as usual",
                        transactionalIds,
                        e.toString());
            }
            return found;
        }

        @Override
        public void close() throws Exception {
            delegate.close();
        }
    }
}
