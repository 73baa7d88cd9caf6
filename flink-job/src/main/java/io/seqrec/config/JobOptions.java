package io.seqrec.config;

import static io.seqrec.config.Values.bool;
import static io.seqrec.config.Values.doubleInRange;
import static io.seqrec.config.Values.intInRange;
import static io.seqrec.config.Values.nonEmpty;
import static io.seqrec.config.Values.nonNegativeDuration;
import static io.seqrec.config.Values.oneOf;
import static io.seqrec.config.Values.positiveDuration;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * Every option of the job, in one place: the CLI parses with these, {@code --help} prints them and
 * the README's configuration table is generated from them (a test keeps the two in step).
 */
public final class JobOptions {
    private JobOptions() {}

    /** The value of {@code --restart-attempts} that sets no limit. */
    public static final String UNLIMITED = "unlimited";

    /**
     * What {@code unlimited} stands for: Flink's own default of attempts before the backoff resets,
     * which no outage exhausts.
     */
    public static final int UNLIMITED_RESTARTS = Integer.MAX_VALUE;

    private static final Function<String, Path> PATH = s -> Path.of(nonEmpty().apply(s));

    public static final Option<String> BOOTSTRAP_SERVERS =
            new Option<>(
                    "bootstrap-servers",
                    null,
                    "HOST:PORT",
                    "Kafka bootstrap servers (required for run).",
                    nonEmpty());
    public static final Option<String> INPUT_TOPIC =
            new Option<>(
                    "input-topic",
                    "behavior-events",
                    "TOPIC",
                    "Topic of behavior events (JSON).",
                    nonEmpty());
    public static final Option<String> OUTPUT_TOPIC =
            new Option<>(
                    "output-topic",
                    "recommendations",
                    "TOPIC",
                    "Topic for recommendations, keyed by user_id; make it log-compacted.",
                    nonEmpty());
    public static final Option<String> DLQ_TOPIC =
            new Option<>(
                    "dlq-topic",
                    "behavior-events-dlq",
                    "TOPIC",
                    "Dead-letter topic: original bytes, reason and source position in headers.",
                    nonEmpty());
    public static final Option<String> GROUP_ID =
            new Option<>(
                    "group-id",
                    "seqrec",
                    "ID",
                    "Kafka consumer group of the source (offsets are committed on checkpoints).",
                    nonEmpty());
    public static final Option<Path> KAFKA_PROPERTIES =
            new Option<>(
                    "kafka-properties",
                    null,
                    "FILE",
                    "Java properties file of Kafka client settings (security etc.), applied to"
                            + " source, sink and dead-letter producer alike.",
                    PATH);
    public static final Option<StartingOffsets> STARTING_OFFSETS =
            new Option<>(
                    "starting-offsets",
                    "committed",
                    "committed|earliest|latest",
                    "Where to start without a checkpoint: committed falls back to earliest.",
                    oneOf(StartingOffsets.class));
    public static final Option<Path> MODEL =
            new Option<>(
                    "model",
                    "model/artifacts/default",
                    "DIR",
                    "Model artifact directory (model.onnx, items.txt, metadata.json).",
                    PATH);
    public static final Option<String> MODEL_REGISTRY =
            new Option<>(
                    "model-registry",
                    null,
                    "URI",
                    "Model registry to serve from (file://, s3://, any Flink file system): its"
                            + " pointer names the stable and canary versions; replaces --model.",
                    nonEmpty());
    public static final Option<Duration> MODEL_POLL_INTERVAL =
            new Option<>(
                    "model-poll-interval",
                    "30s",
                    "DURATION",
                    "How often each subtask reads the registry's pointer for a new revision.",
                    positiveDuration());
    public static final Option<Integer> TOP_K =
            new Option<>("top-k", "10", "K", "Recommendations per event.", intInRange(1, 1000));
    public static final Option<Boolean> EXCLUDE_SEEN =
            new Option<>(
                    "exclude-seen",
                    "true",
                    "BOOL",
                    "Leave items already in the user's sequence out of the recommendations.",
                    bool());
    public static final Option<Integer> BATCH_SIZE =
            new Option<>(
                    "batch-size",
                    "32",
                    "N",
                    "Inference micro-batch: flush when this many requests wait.",
                    intInRange(1, 4096));
    public static final Option<Duration> BATCH_TIMEOUT =
            new Option<>(
                    "batch-timeout",
                    "5ms",
                    "DURATION",
                    "Inference micro-batch: flush this long after the first request waits"
                            + " (0 = no waiting).",
                    nonNegativeDuration());
    public static final Option<Duration> BUFFER_TIMEOUT =
            new Option<>(
                    "buffer-timeout",
                    "2ms",
                    "DURATION",
                    "Longest a record waits in a network buffer between operators (Flink's"
                            + " default of 100ms would dominate latency).",
                    nonNegativeDuration());
    public static final Option<Integer> INFERENCE_THREADS =
            new Option<>(
                    "inference-threads",
                    "1",
                    "N",
                    "ONNX Runtime intra-op threads per subtask (size it to cores per slot).",
                    intInRange(1, 256));
    public static final Option<Device> DEVICE =
            new Option<>(
                    "device",
                    "auto",
                    "auto|cpu|gpu",
                    "Inference device; gpu needs the -Pgpu build and a GPU external resource.",
                    oneOf(Device.class));
    public static final Option<Integer> PARALLELISM =
            new Option<>(
                    "parallelism",
                    "0",
                    "N",
                    "Job parallelism; 0 keeps the cluster's default.",
                    intInRange(0, 4096));
    public static final Option<Duration> MAX_OUT_OF_ORDERNESS =
            new Option<>(
                    "max-out-of-orderness",
                    "5s",
                    "DURATION",
                    "Watermark bound on out-of-order event time.",
                    nonNegativeDuration());
    public static final Option<Duration> ALLOWED_LATENESS =
            new Option<>(
                    "allowed-lateness",
                    "1h",
                    "DURATION",
                    "Events this much older than the user's newest event are still inserted in"
                            + " time order; older ones go to the dead-letter topic as late.",
                    nonNegativeDuration());
    public static final Option<Duration> STATE_TTL =
            new Option<>(
                    "state-ttl",
                    "30d",
                    "DURATION",
                    "A user's state is dropped this long after their last event.",
                    positiveDuration());
    public static final Option<Integer> MAX_HISTORY =
            new Option<>(
                    "max-history",
                    "200",
                    "N",
                    "Steps of a user's history kept in state, by item id whatever the model; the"
                            + " model reads the last max_len of them it knows.",
                    intInRange(1, 10_000));
    public static final Option<Duration> TRENDING_HALF_LIFE =
            new Option<>(
                    "trending-half-life",
                    "1h",
                    "DURATION",
                    "Trending items (for users the model knows nothing of): an interaction's"
                            + " weight halves every this long of event time.",
                    positiveDuration());
    public static final Option<Integer> TRENDING_CAPACITY =
            new Option<>(
                    "trending-capacity",
                    "2000",
                    "N",
                    "Items each subtask counts for trending (heavy-hitters sketch; bounded"
                            + " memory).",
                    intInRange(10, 1_000_000));
    public static final Option<Integer> FRESH_SLOTS =
            new Option<>(
                    "fresh-slots",
                    "0",
                    "N",
                    "Positions of each model list given to trending items the model does not know"
                            + " (new catalog items); 0 = off.",
                    intInRange(0, 1000));
    public static final Option<Integer> BLEND_MAX_HISTORY =
            new Option<>(
                    "blend-max-history",
                    "0",
                    "N",
                    "Users with 1..N history steps the model knows get the model's ranking fused"
                            + " with trending's (strategy blend); 0 = never (measured better only"
                            + " on a sparse shop catalog, up to 5 items: docs/BENCHMARKS.md).",
                    intInRange(0, 10_000));
    public static final Option<Double> BLEND_WEIGHT =
            new Option<>(
                    "blend-weight",
                    "0.25",
                    "BETA",
                    "Weight of trending's ranks in the blend: 1/(60 + model rank) + BETA/(60 +"
                            + " trending rank); 0.25 was the best on validation on every data set.",
                    doubleInRange(0, 1000));
    public static final Option<Boolean> EXPLANATIONS =
            new Option<>(
                    "explanations",
                    "true",
                    "BOOL",
                    "Name, in each model or blend list's because field, the history item most"
                            + " similar to the list's first item (models exported with item"
                            + " vectors; older ones: the item the model attended to most).",
                    bool());
    public static final Option<Duration> QUALITY_WINDOW =
            new Option<>(
                    "quality-window",
                    "1m",
                    "DURATION",
                    "Window of the live coverage, Gini, novelty and average-popularity metrics of"
                            + " the lists each subtask emits.",
                    positiveDuration());
    public static final Option<Integer> DEDUPE_WINDOW =
            new Option<>(
                    "dedupe-window",
                    "32",
                    "N",
                    "Event ids remembered per user to apply a redelivered event only once"
                            + " (0 = off).",
                    intInRange(0, 10_000));
    public static final Option<Integer> MAX_EVENTS_PER_USER_PER_SECOND =
            new Option<>(
                    "max-events-per-user-per-second",
                    "0",
                    "N",
                    "A user's events beyond N in one second of event time (ts) go to the"
                            + " dead-letter topic as rate_limited, unscored; 0 = off.",
                    intInRange(0, 1_000_000));
    public static final Option<DeliveryGuarantee> DELIVERY_GUARANTEE =
            new Option<>(
                    "delivery-guarantee",
                    "at-least-once",
                    "at-least-once|exactly-once",
                    "Output guarantee; exactly-once output is visible at checkpoint completion.",
                    oneOf(DeliveryGuarantee.class));
    public static final Option<String> TRANSACTIONAL_ID_PREFIX =
            new Option<>(
                    "transactional-id-prefix",
                    "seqrec",
                    "PREFIX",
                    "Kafka transactional id prefix for exactly-once; unique per deployment.",
                    nonEmpty());
    public static final Option<Duration> TRANSACTION_TIMEOUT =
            new Option<>(
                    "transaction-timeout",
                    "10m",
                    "DURATION",
                    "Kafka transaction.timeout.ms; must stay below the broker's"
                            + " transaction.max.timeout.ms (15m by default).",
                    positiveDuration());
    public static final Option<Duration> CHECKPOINT_INTERVAL =
            new Option<>(
                    "checkpoint-interval",
                    "10s",
                    "DURATION",
                    "Checkpoint interval (exactly-once output latency follows it).",
                    positiveDuration());
    public static final Option<Duration> CHECKPOINT_TIMEOUT =
            new Option<>(
                    "checkpoint-timeout",
                    "2m",
                    "DURATION",
                    "A checkpoint taking longer is aborted.",
                    positiveDuration());
    public static final Option<Duration> MIN_PAUSE_BETWEEN_CHECKPOINTS =
            new Option<>(
                    "min-pause-between-checkpoints",
                    "1s",
                    "DURATION",
                    "Minimum pause between the end of one checkpoint and the next.",
                    nonNegativeDuration());
    public static final Option<String> CHECKPOINT_DIR =
            new Option<>(
                    "checkpoint-dir",
                    null,
                    "URI",
                    "Checkpoint storage (file://, s3://); unset keeps the cluster's setting.",
                    nonEmpty());
    public static final Option<Integer> RESTART_ATTEMPTS =
            new Option<>(
                    "restart-attempts",
                    "unlimited",
                    "N|unlimited",
                    "Restarts in a row (exponential backoff) before the job fails for good;"
                            + " unlimited keeps it trying through an outage of any length.",
                    Values.intInRangeOr(UNLIMITED, UNLIMITED_RESTARTS, 0, 1_000_000));
    public static final Option<Duration> RESTART_BACKOFF =
            new Option<>(
                    "restart-backoff",
                    "500ms",
                    "DURATION",
                    "Wait before the first restart after a failure; doubles with each further one.",
                    positiveDuration());
    public static final Option<Duration> RESTART_MAX_BACKOFF =
            new Option<>(
                    "restart-max-backoff",
                    "30s",
                    "DURATION",
                    "Cap of the doubling wait between restarts: during an outage the job retries"
                            + " this often.",
                    positiveDuration());
    public static final Option<Integer> MAX_RECORD_BYTES =
            new Option<>(
                    "max-record-bytes",
                    "65536",
                    "BYTES",
                    "Larger input records go to the dead-letter topic unparsed.",
                    intInRange(64, 64 * 1024 * 1024));
    public static final Option<Integer> MAX_FIELD_LENGTH =
            new Option<>(
                    "max-field-length",
                    "256",
                    "CHARS",
                    "Longest accepted user_id, item_id and event_id.",
                    intInRange(1, 65536));
    public static final Option<Duration> MAX_FUTURE_SKEW =
            new Option<>(
                    "max-future-skew",
                    "1h",
                    "DURATION",
                    "Events whose ts lies further ahead of their Kafka timestamp are rejected.",
                    nonNegativeDuration());
    public static final Option<Path> PSEUDONYMIZE_KEY_FILE =
            new Option<>(
                    "pseudonymize-key-file",
                    null,
                    "FILE",
                    "Key state and checkpoints by HMAC-SHA256(key, user_id), the key being this"
                            + " file's bytes (at least 32; on every task manager); the output stays"
                            + " keyed by user_id. docs/PRIVACY.md.",
                    PATH);
    public static final Option<Boolean> EMIT_PSEUDONYM =
            new Option<>(
                    "emit-pseudonym",
                    "false",
                    "BOOL",
                    "With --pseudonymize-key-file: name users in the output (key and user_id) by"
                            + " their pseudonyms instead.",
                    bool());
    public static final Option<String> FROM_SAVEPOINT =
            new Option<>(
                    "from-savepoint",
                    null,
                    "PATH",
                    "Restore from this savepoint or retained checkpoint.",
                    nonEmpty());
    public static final Option<String> JOB_NAME =
            new Option<>("job-name", "seqrec", "NAME", "Flink job name.", nonEmpty());

    /** All options, in the order help and README list them. */
    public static final List<Option<?>> ALL =
            List.of(
                    BOOTSTRAP_SERVERS,
                    INPUT_TOPIC,
                    OUTPUT_TOPIC,
                    DLQ_TOPIC,
                    GROUP_ID,
                    KAFKA_PROPERTIES,
                    STARTING_OFFSETS,
                    MODEL,
                    MODEL_REGISTRY,
                    MODEL_POLL_INTERVAL,
                    TOP_K,
                    EXCLUDE_SEEN,
                    BATCH_SIZE,
                    BATCH_TIMEOUT,
                    BUFFER_TIMEOUT,
                    INFERENCE_THREADS,
                    DEVICE,
                    PARALLELISM,
                    MAX_OUT_OF_ORDERNESS,
                    ALLOWED_LATENESS,
                    STATE_TTL,
                    MAX_HISTORY,
                    DEDUPE_WINDOW,
                    MAX_EVENTS_PER_USER_PER_SECOND,
                    TRENDING_HALF_LIFE,
                    TRENDING_CAPACITY,
                    FRESH_SLOTS,
                    BLEND_MAX_HISTORY,
                    BLEND_WEIGHT,
                    EXPLANATIONS,
                    QUALITY_WINDOW,
                    DELIVERY_GUARANTEE,
                    TRANSACTIONAL_ID_PREFIX,
                    TRANSACTION_TIMEOUT,
                    CHECKPOINT_INTERVAL,
                    CHECKPOINT_TIMEOUT,
                    MIN_PAUSE_BETWEEN_CHECKPOINTS,
                    CHECKPOINT_DIR,
                    RESTART_ATTEMPTS,
                    RESTART_BACKOFF,
                    RESTART_MAX_BACKOFF,
                    MAX_RECORD_BYTES,
                    MAX_FIELD_LENGTH,
                    MAX_FUTURE_SKEW,
                    PSEUDONYMIZE_KEY_FILE,
                    EMIT_PSEUDONYM,
                    FROM_SAVEPOINT,
                    JOB_NAME);

    public static Option<?> byName(String name) {
        for (Option<?> o : ALL) {
            if (o.name().equals(name)) {
                return o;
            }
        }
        return null;
    }

    /** The options as aligned help lines. */
    public static String helpText() {
        return Option.helpText(ALL, "  ");
    }

    /** The options as the README's Markdown table. */
    public static String markdownTable() {
        StringBuilder sb = new StringBuilder("| option | default | description |\n|---|---|---|\n");
        for (Option<?> o : ALL) {
            sb.append("| `--")
                    .append(o.name())
                    .append(' ')
                    .append(o.valueHint())
                    .append("` | ")
                    .append(o.defaultValue() == null ? "" : "`" + o.defaultValue() + "`")
                    .append(" | ")
                    .append(o.description().replace("|", "\\|"))
                    .append(" |\n");
        }
        return sb.toString();
    }
}
