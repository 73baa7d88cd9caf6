package io.seqrec.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.seqrec.pipeline.JobEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {
    @Test
    void appliesDefaultsFromTheOptionTable() {
        JobConfig c = JobConfig.fromArgs(new String[] {"--bootstrap-servers", "k:9092"});
        assertThat(c.inputTopic()).isEqualTo("behavior-events");
        assertThat(c.outputTopic()).isEqualTo("recommendations");
        assertThat(c.dlqTopic()).isEqualTo("behavior-events-dlq");
        assertThat(c.topK()).isEqualTo(10);
        assertThat(c.stateTtl()).isEqualTo(Duration.ofDays(30));
        assertThat(c.batchTimeout()).isEqualTo(Duration.ofMillis(5));
        assertThat(c.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
        assertThat(c.device()).isEqualTo(Device.AUTO);
    }

    @Test
    void parsesEqualsFormAndEnumsWithDashes() {
        JobConfig c =
                JobConfig.fromArgs(
                        new String[] {
                            "--bootstrap-servers=k:1",
                            "--delivery-guarantee",
                            "exactly-once",
                            "--batch-timeout",
                            "0",
                            "--state-ttl",
                            "12h"
                        });
        assertThat(c.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
        assertThat(c.batchTimeout()).isZero();
        assertThat(c.stateTtl()).isEqualTo(Duration.ofHours(12));
    }

    @Test
    void rejectsMissingBootstrapServers() {
        assertThatThrownBy(() -> JobConfig.fromArgs(new String[0]))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--bootstrap-servers is required");
    }

    @Test
    void rejectsUnknownOptionNamingIt() {
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {"--bootstrap-servers", "k:1", "--topk", "5"}))
                .hasMessageContaining("unknown option --topk");
    }

    @Test
    void rejectsOutOfRangeValueSayingWhatFits() {
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers", "k:1", "--top-k", "0"
                                        }))
                .hasMessage("--top-k '0': expected a value between 1 and 1000");
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers", "k:1", "--state-ttl", "30"
                                        }))
                .hasMessageContaining("missing unit");
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers", "k:1", "--device", "tpu"
                                        }))
                .hasMessageContaining("expected one of auto|cpu|gpu");
    }

    @Test
    void rejectsTransactionTimeoutAboveBrokerMaximumForExactlyOnce() {
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers", "k:1",
                                            "--delivery-guarantee", "exactly-once",
                                            "--transaction-timeout", "1h"
                                        }))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("transaction.max.timeout.ms");
    }

    @Test
    void freshSlotsMustLeaveTheModelAPosition() {
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers", "k:1",
                                            "--top-k", "5",
                                            "--fresh-slots", "5"
                                        }))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("--fresh-slots 5 must leave the model at least one");
        assertThat(
                        JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers", "k:1", "--fresh-slots", "2"
                                        })
                                .freshSlots())
                .isEqualTo(2);
    }

    @Test
    void rejectsMissingKafkaPropertiesFile() {
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers",
                                            "k:1",
                                            "--kafka-properties",
                                            "/nope.properties"
                                        }))
                .hasMessageContaining("no such file");
    }

    @Test
    void everyOptionHasDescriptionAndParsableDefault() {
        for (Option<?> o : JobOptions.ALL) {
            assertThat(o.description()).as(o.name()).isNotBlank();
            if (o.defaultValue() != null) {
                assertThat(o.parse(o.defaultValue())).as(o.name()).isNotNull();
            }
        }
    }

    @Test
    void restartsAreUnlimitedByDefaultWithACappedBackoffAndANumberStillBoundsThem() {
        JobConfig c = JobConfig.fromArgs(new String[] {"--bootstrap-servers", "k:1"});
        assertThat(c.restartAttempts()).isEqualTo(JobOptions.UNLIMITED_RESTARTS);
        assertThat(c.restartBackoff()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.restartMaxBackoff()).isEqualTo(Duration.ofSeconds(30));
        Configuration flink = JobEnvironment.flinkConfiguration(c);
        assertThat(flink.get(RestartStrategyOptions.RESTART_STRATEGY))
                .isEqualTo("exponential-delay");
        assertThat(flink.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS))
                .isEqualTo(Integer.MAX_VALUE);
        assertThat(flink.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF))
                .isEqualTo(Duration.ofSeconds(30));

        JobConfig bounded =
                JobConfig.fromArgs(
                        new String[] {
                            "--bootstrap-servers", "k:1",
                            "--restart-attempts", "10",
                            "--restart-backoff", "50ms",
                            "--restart-max-backoff", "200ms"
                        });
        assertThat(bounded.restartAttempts()).isEqualTo(10);
        assertThat(
                        JobEnvironment.flinkConfiguration(bounded)
                                .get(
                                        RestartStrategyOptions
                                                .RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF))
                .isEqualTo(Duration.ofMillis(50));
        assertThat(
                        JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers",
                                            "k:1",
                                            "--restart-attempts",
                                            "UNLIMITED"
                                        })
                                .restartAttempts())
                .isEqualTo(JobOptions.UNLIMITED_RESTARTS);
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers",
                                            "k:1",
                                            "--restart-attempts",
                                            "forever"
                                        }))
                .hasMessageContaining("or unlimited");
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers", "k:1",
                                            "--restart-backoff", "1m",
                                            "--restart-max-backoff", "30s"
                                        }))
                .hasMessageContaining("--restart-max-backoff must not be below --restart-backoff");
    }

    private static JobConfig withKeyFile(Path key, String... more) {
        String[] base = {
            "--bootstrap-servers", "k:9092", "--pseudonymize-key-file", key.toString()
        };
        String[] args = new String[base.length + more.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return JobConfig.fromArgs(args);
    }

    @Test
    void aMissingOrShortPseudonymKeyIsRefusedWithoutShowingIt(@TempDir Path tmp) throws Exception {
        assertThatThrownBy(() -> withKeyFile(tmp.resolve("absent.key")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("absent.key")
                .hasMessageContaining("no such file");
        Path shortKey =
                Files.writeString(tmp.resolve("short.key"), "secret-31-bytes-long-xxxxxxxxxx");
        assertThatThrownBy(() -> withKeyFile(shortKey))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("31 bytes, at least 32")
                .hasMessageNotContaining("secret");
        Path key = Files.write(tmp.resolve("good.key"), new byte[32]);
        assertThat(withKeyFile(key, "--emit-pseudonym", "true").emitPseudonym()).isTrue();
    }

    @Test
    void emittingPseudonymsNeedsAKey() {
        assertThatThrownBy(
                        () ->
                                JobConfig.fromArgs(
                                        new String[] {
                                            "--bootstrap-servers",
                                            "k:9092",
                                            "--emit-pseudonym",
                                            "true"
                                        }))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("--pseudonymize-key-file");
    }
}
