package io.seqrec.kafka;

/**
 * Kafka cannot be used with the job's settings: unreachable, authentication refused, not
 * authorized, or a topic missing. The message names the bootstrap servers and the problem, and
 * never a secret.
 */
public final class KafkaUnavailableException extends RuntimeException {
    public KafkaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
