package io.seqrec.config;

import static io.seqrec.config.JobOptions.*;

import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The job's validated, immutable configuration. Built once, from command-line flags, by {@link
 * #fromArgs}; every value has been parsed and checked (alone and against the others), so the job
 * never meets a bad value at run time.
 */
public record JobConfig(
        String bootstrapServers,
        String inputTopic,
        String outputTopic,
        String dlqTopic,
        String groupId,
        Path kafkaProperties,
        StartingOffsets startingOffsets,
        Path modelDir,
        String modelRegistry,
        Duration modelPollInterval,
        int topK,
        boolean excludeSeen,
        int batchSize,
        Duration batchTimeout,
        Duration bufferTimeout,
        int inferenceThreads,
        Device device,
        int parallelism,
        Duration maxOutOfOrderness,
        Duration allowedLateness,
        Duration stateTtl,
        int maxHistory,
        int dedupeWindow,
        int maxEventsPerUserPerSecond,
        Duration trendingHalfLife,
        int trendingCapacity,
        int freshSlots,
        int blendMaxHistory,
        double blendWeight,
        boolean explanations,
        Duration qualityWindow,
        DeliveryGuarantee deliveryGuarantee,
        String transactionalIdPrefix,
        Duration transactionTimeout,
        Duration checkpointInterval,
        Duration checkpointTimeout,
        Duration minPauseBetweenCheckpoints,
        String checkpointDir,
        int restartAttempts,
        Duration restartBackoff,
        Duration restartMaxBackoff,
        int maxRecordBytes,
        int maxFieldLength,
        Duration maxFutureSkew,
        Path pseudonymizeKeyFile,
        boolean emitPseudonym,
        String fromSavepoint,
        String jobName)
        implements Serializable {

    /**
     * The broker's default {@code transaction.max.timeout.ms}; above it the sink restarts forever.
     */
    static final Duration BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    /**
     * Parses {@code --name value} pairs (also {@code --name=value}).
     *
     * @throws ConfigException naming the first unknown option or invalid value
     */
    public static JobConfig fromArgs(String[] args) {
        return fromMap(toMap(args));
    }

    /** Splits {@code --name value} / {@code --name=value} pairs into a map, rejecting unknowns. */
    public static Map<String, String> toMap(String[] args) {
        Map<String, String> values = CommandLine.split(args);
        rejectUnknown(values);
        return values;
    }

    /** Builds the configuration from option names (without dashes) to raw values. */
    public static JobConfig fromMap(Map<String, String> raw) {
        rejectUnknown(raw);
        Reader r = new Reader(raw);
        JobConfig config =
                new JobConfig(
                        r.required(BOOTSTRAP_SERVERS),
                        r.get(INPUT_TOPIC),
                        r.get(OUTPUT_TOPIC),
                        r.get(DLQ_TOPIC),
                        r.get(GROUP_ID),
                        r.get(KAFKA_PROPERTIES),
                        r.get(STARTING_OFFSETS),
                        r.get(MODEL),
                        r.get(MODEL_REGISTRY),
                        r.get(MODEL_POLL_INTERVAL),
                        r.get(TOP_K),
                        r.get(EXCLUDE_SEEN),
                        r.get(BATCH_SIZE),
                        r.get(BATCH_TIMEOUT),
                        r.get(BUFFER_TIMEOUT),
                        r.get(INFERENCE_THREADS),
                        r.get(DEVICE),
                        r.get(PARALLELISM),
                        r.get(MAX_OUT_OF_ORDERNESS),
                        r.get(ALLOWED_LATENESS),
                        r.get(STATE_TTL),
                        r.get(MAX_HISTORY),
                        r.get(DEDUPE_WINDOW),
                        r.get(MAX_EVENTS_PER_USER_PER_SECOND),
                        r.get(TRENDING_HALF_LIFE),
                        r.get(TRENDING_CAPACITY),
                        r.get(FRESH_SLOTS),
                        r.get(BLEND_MAX_HISTORY),
                        r.get(BLEND_WEIGHT),
                        r.get(EXPLANATIONS),
                        r.get(QUALITY_WINDOW),
                        r.get(DELIVERY_GUARANTEE),
                        r.get(TRANSACTIONAL_ID_PREFIX),
                        r.get(TRANSACTION_TIMEOUT),
                        r.get(CHECKPOINT_INTERVAL),
                        r.get(CHECKPOINT_TIMEOUT),
                        r.get(MIN_PAUSE_BETWEEN_CHECKPOINTS),
                        r.get(CHECKPOINT_DIR),
                        r.get(RESTART_ATTEMPTS),
                        r.get(RESTART_BACKOFF),
                        r.get(RESTART_MAX_BACKOFF),
                        r.get(MAX_RECORD_BYTES),
                        r.get(MAX_FIELD_LENGTH),
                        r.get(MAX_FUTURE_SKEW),
                        r.get(PSEUDONYMIZE_KEY_FILE),
                        r.get(EMIT_PSEUDONYM),
                        r.get(FROM_SAVEPOINT),
                        r.get(JOB_NAME));
        config.checkConsistency();
        return config;
    }

    private static void rejectUnknown(Map<String, String> raw) {
        for (String name : raw.keySet()) {
            if (JobOptions.byName(name) == null) {
                throw new ConfigException("unknown option --" + name + " (see --help)");
            }
        }
    }

    private void checkConsistency() {
        if (freshSlots >= topK) {
            throw new ConfigException(
                    "--fresh-slots "
                            + freshSlots
                            + " must leave the model at least one of --top-k "
                            + topK
                            + " positions");
        }
        if (pseudonymizeKeyFile != null) {
            KeyFile.read(pseudonymizeKeyFile);
        } else if (emitPseudonym) {
            throw new ConfigException("--emit-pseudonym needs --pseudonymize-key-file");
        }
        if (kafkaProperties != null && !kafkaProperties.toFile().isFile()) {
            throw new ConfigException("--kafka-properties '" + kafkaProperties + "': no such file");
        }
        if (deliveryGuarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            if (transactionTimeout.compareTo(BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT) > 0) {
                throw new ConfigException(
                        "--transaction-timeout "
                                + transactionTimeout.toMinutes()
                                + "m exceeds the broker default transaction.max.timeout.ms (15m);"
                                + " the sink would restart forever. Lower it, or raise the broker"
                                + " limit and this check with it.");
            }
            if (transactionTimeout.compareTo(checkpointInterval.plus(checkpointTimeout)) <= 0) {
                throw new ConfigException(
                        "--transaction-timeout must exceed --checkpoint-interval plus"
                                + " --checkpoint-timeout, or open transactions expire before"
                                + " they commit");
            }
        }
        if (restartMaxBackoff.compareTo(restartBackoff) < 0) {
            throw new ConfigException("--restart-max-backoff must not be below --restart-backoff");
        }
        if (batchTimeout.compareTo(checkpointInterval) >= 0) {
            throw new ConfigException("--batch-timeout must be shorter than --checkpoint-interval");
        }
    }

    /** Reads options from the raw map, falling back to defaults. */
    private static final class Reader {
        private final Map<String, String> raw;

        Reader(Map<String, String> raw) {
            this.raw = raw;
        }

        <T> T get(Option<T> option) {
            String value = raw.getOrDefault(option.name(), option.defaultValue());
            return value == null ? null : option.parse(value);
        }

        <T> T required(Option<T> option) {
            T value = get(option);
            if (value == null) {
                throw new ConfigException("--" + option.name() + " is required");
            }
            return value;
        }
    }
}
