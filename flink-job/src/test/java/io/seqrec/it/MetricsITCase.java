package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.config.JobConfig;
import io.seqrec.deploy.MonitoringQueries;
import io.seqrec.generator.GeneratedRecord;
import io.seqrec.generator.GeneratorConfig;
import io.seqrec.generator.SyntheticBehaviorGenerator;
import io.seqrec.model.ModelArtifact;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.prometheus.PrometheusReporterFactory;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's metrics as an SRE's Prometheus sees them: the job runs on a MiniCluster with Flink's
 * Prometheus reporter on a free port, between topics of a real broker, over synthetic traffic with
 * malformed records; the reporter's HTTP endpoint is scraped and every metric the README's
 * "Metrics" table documents must be there, under the documented name, with values that agree with
 * each other and with what reached the topics.
 */
class MetricsITCase {
    private static final int PARALLELISM = 2;
    private static final int PROMETHEUS_PORT = freePort();

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(PARALLELISM)
                            .setConfiguration(reporterConfiguration())
                            .build());

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @TempDir static Path tmp;

    private static Configuration reporterConfiguration() {
        Configuration c = new Configuration();
        c.setString(
                "metrics.reporter.prom.factory.class", PrometheusReporterFactory.class.getName());
        c.setString("metrics.reporter.prom.port", Integer.toString(PROMETHEUS_PORT));
        return c;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeAll
    static void createTopics() {
        KAFKA.createJobTopics(
                PARALLELISM, "behavior-events", "recommendations", "behavior-events-dlq");
    }

    @Test
    void everyDocumentedMetricIsScrapedWithSaneValues() throws Exception {
        List<String[]> input = new ArrayList<>();
        new SyntheticBehaviorGenerator(
                        new GeneratorConfig(
                                1500,
                                10,
                                200,
                                3000,
                                11,
                                3,
                                System.currentTimeMillis() - 60_000,
                                10,
                                0.03))
                .forEachRemaining(
                        (GeneratedRecord r) -> input.add(new String[] {r.key(), r.value()}));
        KafkaTestSupport.produce(KAFKA.bootstrapServers(), "behavior-events", input);

        JobConfig config =
                Jobs.config(
                        KAFKA.bootstrapServers(),
                        tmp.resolve("checkpoints"),
                        "--batch-size",
                        "16",
                        "--checkpoint-interval",
                        "2s");
        JobClient job = Jobs.start(config, PARALLELISM, "metrics-it");
        int total = input.size();
        int recommendations;
        int deadLetters;
        long deadline = System.currentTimeMillis() + 180_000;
        do {
            recommendations =
                    KafkaTestSupport.drain(
                                    KAFKA.bootstrapServers(),
                                    "recommendations",
                                    r -> false,
                                    Duration.ofSeconds(2))
                            .size();
            deadLetters =
                    KafkaTestSupport.drain(
                                    KAFKA.bootstrapServers(),
                                    "behavior-events-dlq",
                                    r -> false,
                                    Duration.ofSeconds(1))
                            .size();
        } while (recommendations + deadLetters < total && System.currentTimeMillis() < deadline);
        assertThat(recommendations + deadLetters).isEqualTo(total);

        List<Sample> samples = scrape();
        job.cancel().get();

        // Every metric the README documents is exported under that name.
        List<String> documented = documentedMetrics();
        assertThat(documented).hasSizeGreaterThanOrEqualTo(11);
        for (String name : documented) {
            assertThat(samples)
                    .as(name)
                    .anyMatch(s -> s.name.equals(name) || s.name.equals(name + "_count"));
        }

        // Every alert rule and dashboard panel in k8s/monitoring/ reads only scraped metrics.
        List<MonitoringQueries.Query> queries = MonitoringQueries.all();
        assertThat(queries).hasSizeGreaterThanOrEqualTo(18);
        for (MonitoringQueries.Query q : queries) {
            for (String name : MonitoringQueries.metricNames(q.expr())) {
                assertThat(samples)
                        .as(q.where() + " reads " + name)
                        .anyMatch(s -> s.name.equals(name));
            }
        }

        String p = "flink_taskmanager_job_task_operator_";
        double in = sum(samples, p + "events_in");
        double accepted = sum(samples, p + "events_accepted");
        double dead = sum(samples, p + "reason_events_dead_lettered");
        assertThat(in).isEqualTo(total);
        assertThat(accepted + dead).isEqualTo(in);
        assertThat(accepted).isEqualTo(recommendations);
        assertThat(dead).isEqualTo(deadLetters).isPositive();
        assertThat(sum(samples, p + "recommendations_out")).isEqualTo(recommendations);
        assertThat(sum(samples, p + "unknown_items")).isBetween(0.0, accepted);
        // Malformed records are counted under their reason label.
        assertThat(samples)
                .filteredOn(s -> s.name.equals(p + "reason_events_dead_lettered") && s.value > 0)
                .allMatch(s -> s.labels.containsKey("reason"))
                .isNotEmpty();

        // Histograms (summaries): counts, and quantiles within their ranges.
        assertThat(sum(samples, p + "inference_batch_size_count")).isPositive();
        assertThat(values(samples, p + "inference_batch_size")).allMatch(v -> v >= 1 && v <= 16);
        assertThat(sum(samples, p + "inference_time_us_count")).isPositive();
        assertThat(values(samples, p + "inference_time_us")).allMatch(v -> v >= 0 && v < 60e6);
        assertThat(sum(samples, p + "event_to_emit_latency_ms_count")).isEqualTo(recommendations);
        assertThat(values(samples, p + "event_to_emit_latency_ms"))
                .allMatch(v -> v >= 0 && v < 600_000);

        // Live quality by model version, and the loaded model's version.
        // The reporter replaces characters Prometheus label values should not carry by '_'
        // (filterLabelValueCharacters, on by default).
        String version =
                ModelArtifact.load(TestPaths.defaultModel())
                        .modelVersion()
                        .replaceAll("[^a-zA-Z0-9:_]", "_");
        for (String gauge :
                List.of(
                        "live_hr_at_10",
                        "live_ndcg_at_10",
                        "live_baseline_hr_at_10",
                        "live_baseline_ndcg_at_10",
                        "live_purchase_hr_at_10",
                        "live_purchase_ndcg_at_10")) {
            List<Sample> g = named(samples, p + "model_version_" + gauge);
            assertThat(g).hasSize(PARALLELISM).allMatch(s -> s.value >= 0 && s.value <= 1);
            assertThat(g).allMatch(s -> version.equals(s.labels.get("model_version")));
        }
        assertThat(sum(samples, p + "model_version_live_evaluated")).isPositive();
        assertThat(sum(samples, p + "model_version_live_hr_at_10")).isPositive();
        // The generator's users buy some of the items they turn to.
        assertThat(sum(samples, p + "model_version_live_purchase_evaluated"))
                .isPositive()
                .isLessThan(sum(samples, p + "model_version_live_evaluated"));
        // Trending lists go to users the model knows none of the items of: a share, not all.
        assertThat(sum(samples, p + "recommendations_trending")).isBetween(0.0, accepted - 1);
        assertThat(named(samples, p + "model_version_model_loaded"))
                .hasSize(PARALLELISM)
                .allMatch(s -> s.value == 1 && version.equals(s.labels.get("model_version")));
    }

    /** Metric names (as scraped) in the README's "Metrics" table. */
    static List<String> documentedMetrics() throws IOException {
        String readme = Files.readString(TestPaths.repoRoot().resolve("README.md"));
        int start = readme.indexOf("\n## Metrics");
        assertThat(start).as("README has a Metrics section").isPositive();
        int end = readme.indexOf("\n## ", start + 1);
        String section = readme.substring(start, end < 0 ? readme.length() : end);
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\| `(flink_[a-z0-9_]+)`").matcher(section);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private record Sample(String name, Map<String, String> labels, double value) {}

    private static List<Sample> scrape() throws Exception {
        HttpResponse<String> response =
                HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(
                                                URI.create(
                                                        "http://localhost:"
                                                                + PROMETHEUS_PORT
                                                                + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        List<Sample> samples = new ArrayList<>();
        Pattern line = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)$");
        Pattern label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
        for (String l : response.body().split("\n")) {
            Matcher m = line.matcher(l);
            if (l.startsWith("#") || !m.matches()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null) {
                Matcher lm = label.matcher(m.group(2));
                while (lm.find()) {
                    labels.put(lm.group(1), lm.group(2));
                }
            }
            samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
        }
        return samples;
    }

    private static List<Sample> named(List<Sample> samples, String name) {
        return samples.stream().filter(s -> s.name.equals(name)).toList();
    }

    private static double sum(List<Sample> samples, String name) {
        List<Sample> n = named(samples, name);
        assertThat(n).as(name).isNotEmpty();
        return n.stream().mapToDouble(Sample::value).sum();
    }

    private static List<Double> values(List<Sample> samples, String name) {
        List<Double> v =
                named(samples, name).stream().map(Sample::value).filter(d -> !d.isNaN()).toList();
        assertThat(v).as(name).isNotEmpty();
        return v;
    }
}
