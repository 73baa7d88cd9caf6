package io.seqrec.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.TestPaths;
import io.seqrec.cli.CliRun;
import io.seqrec.model.ModelArtifact;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code seqrec demo --lifecycle} at small sizes, for real: an embedded broker and job serving the
 * shipped model from a registry, a drifting stream, the export, a warm-started retraining by {@code
 * seqrec_model} in Python, the canary and the decision. Checks that the summary is consistent with
 * what the run printed: v2 was trained, published and served its share of users, and the promotion
 * decision follows the live figures it printed.
 */
class LifecycleDemoITCase {
    private static final Pattern DECISION =
            Pattern.compile(
                    "canary NDCG@10 ([0-9.]+) over (\\d+) checks, stable ([0-9.]+) over"
                            + " (\\d+)(.*)");

    @Test
    void theLoopRetrainsPublishesCanariesAndDecidesFromLiveFigures() {
        CliRun run =
                CliRun.of(
                        "demo",
                        "--lifecycle",
                        "--model",
                        TestPaths.defaultModel().toString(),
                        "--rate",
                        "500",
                        "--users",
                        "200",
                        "--lifecycle-stream",
                        "20s",
                        "--retrain-budget",
                        "30s",
                        "--canary-min-checks",
                        "200",
                        "--canary-max-wait",
                        "40s");
        assertThat(run.status()).as(run.out() + run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        String summary = lines.get(lines.size() - 1);
        assertThat(summary).startsWith("SUMMARY ");
        Map<String, String> s = new HashMap<>();
        for (String kv : summary.substring("SUMMARY ".length()).split(" ")) {
            String[] p = kv.split("=", 2);
            s.put(p[0], p[1]);
        }
        assertThat(s)
                .containsOnlyKeys(
                        "events_in",
                        "v1",
                        "v2",
                        "v1_hr_at_10",
                        "v2_hr_at_10",
                        "canary_share",
                        "new_items_recommended",
                        "retrain_s",
                        "promoted");
        assertThat(s.get("v1"))
                .isEqualTo(ModelArtifact.load(TestPaths.defaultModel()).modelVersion());
        assertThat(s.get("v2")).startsWith("sasrec-lifecycle-").isNotEqualTo(s.get("v1"));
        assertThat(Long.parseLong(s.get("events_in"))).isGreaterThan(10_000);
        // Trained within its budget (plus the start of Python and the export of the artifact) ...
        assertThat(run.out()).contains("retraining, warm-started from v1");
        assertThat(Double.parseDouble(s.get("retrain_s"))).isBetween(1.0, 120.0);
        // ... and served to about its 20 % of users (a hash of user_id; 200 users).
        assertThat(Double.parseDouble(s.get("canary_share"))).isBetween(0.08, 0.32);
        // It knows items released after v1 was trained, and recommended some of them.
        assertThat(Integer.parseInt(s.get("new_items_recommended"))).isPositive();

        // The decision follows the printed live figures.
        Matcher m =
                lines.stream()
                        .map(DECISION::matcher)
                        .filter(Matcher::find)
                        .reduce((a, b) -> b)
                        .orElseThrow();
        boolean promoted = Boolean.parseBoolean(s.get("promoted"));
        String verdict = m.group(5);
        long canaryChecks = Long.parseLong(m.group(2));
        long stableChecks = Long.parseLong(m.group(4));
        if (promoted) {
            assertThat(verdict).contains("the canary beats");
            assertThat(Double.parseDouble(m.group(1)))
                    .isGreaterThan(Double.parseDouble(m.group(3)));
            assertThat(Math.min(canaryChecks, stableChecks)).isGreaterThanOrEqualTo(200);
            assertThat(run.out()).contains("promoted v2: pointer revision 3: stable v2");
        } else {
            assertThat(verdict).containsAnyOf("does not beat", "fewer than 200 checks");
            assertThat(run.out()).contains("rolled back v2: pointer revision 3: stable v1");
        }
        // The hit rates of the summary are the last live figures printed for the two versions.
        String last =
                lines.stream()
                        .filter(l -> l.contains("live since the canary:"))
                        .reduce((a, b) -> b)
                        .orElseThrow();
        assertThat(last)
                .contains("v1 HR@10 " + s.get("v1_hr_at_10"))
                .contains("v2 HR@10 " + s.get("v2_hr_at_10"));
    }
}
