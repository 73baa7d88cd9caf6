package io.seqrec.cli;

import static io.seqrec.config.Values.doubleInRange;
import static io.seqrec.config.Values.intInRange;
import static io.seqrec.config.Values.longInRange;
import static io.seqrec.config.Values.nonEmpty;

import io.seqrec.config.Option;
import io.seqrec.evaluation.LiveTotals;
import io.seqrec.evaluation.PromotionRule;
import io.seqrec.model.ModelArtifact;
import io.seqrec.registry.LiveReport;
import io.seqrec.registry.ModelRegistry;
import io.seqrec.registry.RegistryPointer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.configuration.ConfigConstants;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.plugin.PluginUtils;

/**
 * {@code seqrec models ACTION}: the model registry ({@link ModelRegistry}) by hand or from a
 * release pipeline. {@code publish} checks an artifact and adds it as a version, {@code canary}
 * serves a version to a share of users, {@code promote} makes the canary stable, {@code rollback}
 * undoes the last of these, {@code status} shows the versions, the traffic split and each version's
 * live figures as the job's subtasks last wrote them to the registry.
 */
final class ModelsCommand {
    private ModelsCommand() {}

    static final Option<String> REGISTRY =
            new Option<>(
                    "registry",
                    null,
                    "URI",
                    "Model registry: a directory or a Flink file system URI (file://, s3://).",
                    nonEmpty());
    static final Option<String> VERSION =
            new Option<>(
                    "version",
                    null,
                    "V",
                    "Version name (default: the artifact's model_version).",
                    nonEmpty());
    static final Option<Integer> PERCENT =
            new Option<>(
                    "percent",
                    null,
                    "P",
                    "Percent of users the canary serves (1-100).",
                    intInRange(1, 100));

    static final Option<Integer> CANARY_PERCENT =
            new Option<>(
                    "canary",
                    null,
                    "P",
                    "Then serve it to this percentage of users as the canary.",
                    intInRange(1, 100));
    static final Command PUBLISH =
            new Command(
                    "models publish",
                    List.of("DIR"),
                    "check a model artifact (contract, reference vectors), add it as a version",
                    List.of(REGISTRY, VERSION, CANARY_PERCENT),
                    false,
                    ModelsCommand::publish);
    static final Option<String> FETCH_VERSION =
            new Option<>(
                    "version",
                    null,
                    "V",
                    "Version to fetch (default: the stable one).",
                    nonEmpty());
    static final Option<java.nio.file.Path> OUT =
            new Option<>(
                    "out",
                    null,
                    "DIR",
                    "Directory to copy the artifact to (e.g. for seqrec_model train --init-from).",
                    java.nio.file.Path::of);
    static final Command FETCH =
            new Command(
                    "models fetch",
                    "copy a version's artifact out of the registry, checked against its digests",
                    List.of(REGISTRY, FETCH_VERSION, OUT),
                    false,
                    ModelsCommand::fetch);
    static final Command CANARY =
            new Command(
                    "models canary",
                    List.of("VERSION"),
                    "serve VERSION to --percent of users (replaces any canary)",
                    List.of(REGISTRY, PERCENT),
                    false,
                    f -> show(registry(f).canary(f.argument("VERSION"), f.required(PERCENT))));
    static final Option<Double> IF_BETTER =
            new Option<>(
                    "if-better",
                    null,
                    "MARGIN",
                    "Decide from the live figures: promote if the canary's NDCG@10 beats the"
                            + " stable's by this relative margin (e.g. 0.02) at 95 % confidence,"
                            + " else roll it back; exit 5 and change nothing while either has too"
                            + " few checks.",
                    doubleInRange(0, 10));
    static final Option<Long> MIN_CHECKS =
            new Option<>(
                    "min-checks",
                    "1000",
                    "N",
                    "With --if-better: live checks each version needs before deciding.",
                    longInRange(2, Long.MAX_VALUE));

    /** {@code models promote --if-better}: nothing decided yet. */
    static final int UNDECIDED = 5;

    static final Command PROMOTE =
            new Command(
                    "models promote",
                    "make the canary the stable version for every user",
                    List.of(REGISTRY, IF_BETTER, MIN_CHECKS),
                    false,
                    ModelsCommand::promote);
    static final Command ROLLBACK =
            new Command(
                    "models rollback",
                    "drop the canary; without one, return to the previous stable version",
                    List.of(REGISTRY),
                    false,
                    f -> show(registry(f).rollback()));
    static final Command STATUS =
            new Command(
                    "models status",
                    "the versions, the traffic split, live HR@10 / NDCG@10 by version",
                    List.of(REGISTRY),
                    false,
                    f -> printStatus(registry(f), System.currentTimeMillis(), System.out));

    private static int publish(Flags f) {
        ModelRegistry registry = registry(f);
        String version = registry.publish(Path.of(f.argument("DIR")), f.get(VERSION));
        System.out.println("published " + version + " to " + registry.uri());
        Integer canary = f.get(CANARY_PERCENT);
        return show(canary == null ? registry.pointer() : registry.canary(version, canary));
    }

    private static int fetch(Flags f) {
        ModelRegistry registry = registry(f);
        String version = f.get(FETCH_VERSION, registry.pointer().stable());
        ModelArtifact artifact = registry.fetch(version, f.required(OUT));
        System.out.println(
                "fetched " + version + " (" + artifact.modelVersion() + ") to " + artifact.dir());
        return 0;
    }

    private static int promote(Flags f) {
        ModelRegistry registry = registry(f);
        Double margin = f.get(IF_BETTER);
        if (margin == null) {
            return show(registry.promote());
        }
        RegistryPointer p = registry.pointer();
        if (!p.hasCanary()) {
            throw new UsageException("models promote --if-better: there is no canary to judge");
        }
        Map<String, LiveTotals> live = liveTotals(registry, System.currentTimeMillis());
        PromotionRule.Decision d =
                new PromotionRule(margin, f.get(MIN_CHECKS))
                        .decide(
                                live.getOrDefault(p.canary(), LiveTotals.NONE),
                                live.getOrDefault(p.stable(), LiveTotals.NONE));
        System.out.println(d.reason());
        switch (d.verdict()) {
            case PROMOTE:
                System.out.println("promoting " + p.canary());
                return show(registry.promote());
            case ROLL_BACK:
                System.out.println("rolling back " + p.canary());
                return show(registry.rollback());
            default:
                System.out.println("nothing changed; run again when there are more checks");
                return UNDECIDED;
        }
    }

    /** Live totals by registry version, summed over the subtasks' fresh reports. */
    static Map<String, LiveTotals> liveTotals(ModelRegistry registry, long nowMs) {
        Map<String, LiveTotals> live = new HashMap<>();
        for (LiveReport r : registry.liveReports()) {
            if (r.isFresh(nowMs)) {
                r.versions().forEach((v, t) -> live.merge(v, t, LiveTotals::plus));
            }
        }
        return live;
    }

    private static int show(RegistryPointer pointer) {
        System.out.println(describe(pointer));
        return 0;
    }

    static String describe(RegistryPointer p) {
        StringBuilder sb = new StringBuilder("pointer revision ").append(p.revision());
        sb.append(": stable ").append(p.stable()).append(" for ");
        sb.append(100 - p.canaryPercent()).append("% of users");
        if (p.hasCanary()) {
            sb.append(", canary ").append(p.canary());
            sb.append(" for ").append(p.canaryPercent()).append('%');
        }
        if (p.previousStable() != null) {
            sb.append("; previous stable ").append(p.previousStable());
        }
        return sb.toString();
    }

    /**
     * One line per version: its role in the pointer, its share of users, and its live HR@10 and
     * NDCG@10 with 95 % intervals and the number of checks behind them, summed over the fresh
     * reports of the subtasks that serve the registry ({@link LiveReport}).
     */
    static int printStatus(ModelRegistry registry, long nowMs, PrintStream out) {
        List<String> versions = registry.versions();
        if (versions.isEmpty()) {
            out.println("registry " + registry.uri() + ": no versions published");
            return 0;
        }
        RegistryPointer p = registry.pointer();
        List<LiveReport> reports = registry.liveReports();
        List<LiveReport> fresh = reports.stream().filter(r -> r.isFresh(nowMs)).toList();
        Map<String, LiveTotals> live = new HashMap<>();
        Map<String, LiveTotals> baselines = new HashMap<>();
        for (LiveReport r : fresh) {
            r.versions().forEach((v, t) -> live.merge(v, t, LiveTotals::plus));
            r.baselines().forEach((v, t) -> baselines.merge(v, t, LiveTotals::plus));
        }
        out.println("registry " + registry.uri());
        out.println(describe(p));
        int width =
                Math.max(
                        "VERSION".length(),
                        versions.stream().mapToInt(String::length).max().getAsInt());
        String row = "%-" + width + "s  %-15s  %5s  %s%n";
        out.printf(row, "VERSION", "ROLE", "USERS", "LIVE (95 % intervals)");
        for (String v : versions) {
            String role =
                    v.equals(p.stable())
                            ? "stable"
                            : v.equals(p.canary())
                                    ? "canary"
                                    : v.equals(p.previousStable()) ? "previous stable" : "";
            int users =
                    v.equals(p.stable())
                            ? 100 - p.canaryPercent()
                            : v.equals(p.canary()) ? p.canaryPercent() : 0;
            out.printf(
                    row,
                    v,
                    role,
                    users + "%",
                    liveColumn(live.get(v)) + lift(live.get(v), baselines.get(v)));
        }
        out.println(reportsLine(fresh, reports.size() - fresh.size(), nowMs));
        return 0;
    }

    static String liveColumn(LiveTotals t) {
        if (t == null || t.evaluated() == 0) {
            return "-";
        }
        LiveTotals.Interval hr = t.hitRateInterval();
        LiveTotals.Interval ndcg = t.ndcgInterval();
        return String.format(
                Locale.ROOT,
                "HR@10 %.4f [%.4f, %.4f]  NDCG@10 %.4f [%.4f, %.4f]  checks %d",
                t.hitRate(),
                hr.low(),
                hr.high(),
                t.ndcg(),
                ndcg.low(),
                ndcg.high(),
                t.evaluated());
    }

    /**
     * The live popularity baseline on the same checks, and the model's NDCG@10 over it: whether the
     * version beats what is trending on today's traffic.
     */
    static String lift(LiveTotals model, LiveTotals baseline) {
        if (model == null || baseline == null || baseline.evaluated() == 0) {
            return "";
        }
        return String.format(
                Locale.ROOT,
                "  trending NDCG@10 %.4f%s",
                baseline.ndcg(),
                baseline.ndcg() > 0
                        ? String.format(
                                Locale.ROOT, " (lift %.2fx)", model.ndcg() / baseline.ndcg())
                        : "");
    }

    /** Where the live figures come from: which subtasks, how recent, what was left out. */
    private static String reportsLine(List<LiveReport> fresh, int stale, long nowMs) {
        String ignored = stale == 0 ? "" : "; " + stale + " stale report(s) ignored";
        if (fresh.isEmpty()) {
            return "live: no job serving this registry has reported in the last polls" + ignored;
        }
        int parallelism = fresh.stream().mapToInt(LiveReport::parallelism).max().getAsInt();
        long newest = fresh.stream().mapToLong(LiveReport::updatedMs).max().getAsLong();
        long started = fresh.stream().mapToLong(LiveReport::startedMs).min().getAsLong();
        return String.format(
                Locale.ROOT,
                "live: %d of %d subtasks reported, newest %d s ago, counting since %s%s",
                fresh.size(),
                parallelism,
                Math.max(0, (nowMs - newest) / 1000),
                Instant.ofEpochMilli(started).truncatedTo(ChronoUnit.SECONDS),
                ignored);
    }

    /**
     * Opens the registry of {@code --registry}. With {@code FLINK_PLUGINS_DIR} set, Flink's file
     * system plugins there (e.g. {@code s3-fs-presto} for {@code s3://}) are loaded first,
     * configured from {@code FLINK_CONF_DIR}'s {@code config.yaml} if that is set too, as a Flink
     * process loads them.
     */
    private static ModelRegistry registry(Flags f) {
        String uri = f.required(REGISTRY);
        if (System.getenv(ConfigConstants.ENV_FLINK_PLUGINS_DIR) != null) {
            Configuration conf =
                    System.getenv(ConfigConstants.ENV_FLINK_CONF_DIR) == null
                            ? new Configuration()
                            : GlobalConfiguration.loadConfiguration();
            FileSystem.initialize(conf, PluginUtils.createPluginManagerFromRootFolder(conf));
        }
        return ModelRegistry.open(uri);
    }
}
