package io.seqrec.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every PromQL expression k8s/monitoring/ ships, the alert rules' and the Grafana dashboard's, and
 * the metric names each one reads: what {@code MetricsITCase} checks against a real scrape of the
 * job and {@link KubernetesManifestsTest} checks against the README.
 */
public final class MonitoringQueries {
    private MonitoringQueries() {}

    /** One expression and where it comes from (an alert's or a panel's name). */
    public record Query(String where, String expr) {}

    /**
     * PromQL words that are not metric names: aggregation operators (which a label list may
     * separate from their parenthesis) and keywords. Function names are told apart by the
     * parenthesis that follows them.
     */
    private static final Set<String> KEYWORDS =
            Set.of(
                    "sum",
                    "min",
                    "max",
                    "avg",
                    "group",
                    "stddev",
                    "stdvar",
                    "count",
                    "count_values",
                    "bottomk",
                    "topk",
                    "quantile",
                    "limitk",
                    "limit_ratio",
                    "by",
                    "without",
                    "on",
                    "ignoring",
                    "group_left",
                    "group_right",
                    "and",
                    "or",
                    "unless",
                    "bool",
                    "offset",
                    "atan2",
                    "inf",
                    "nan");

    /** Label lists after by, without, on, ignoring, group_left and group_right. */
    private static final Pattern LABEL_LIST =
            Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");

    private static final Pattern IDENTIFIER =
            Pattern.compile("(?<![\\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\\w:])(\\s*\\()?");

    /** The alert rules' expressions, then the dashboard panels'. */
    public static List<Query> all() {
        List<Query> out = new ArrayList<>(alerts());
        out.addAll(dashboard());
        return out;
    }

    /** The expression of each alert in k8s/monitoring/prometheusrule.yaml, named by the alert. */
    public static List<Query> alerts() {
        List<Query> out = new ArrayList<>();
        JsonNode rule = Manifests.single(Manifests.k8s().resolve("monitoring/prometheusrule.yaml"));
        for (JsonNode group : rule.path("spec").path("groups")) {
            for (JsonNode r : group.path("rules")) {
                out.add(new Query("alert " + r.path("alert").asText(), r.path("expr").asText()));
            }
        }
        return out;
    }

    /** The expression of each target of each panel of the dashboard, named by the panel. */
    public static List<Query> dashboard() {
        List<Query> out = new ArrayList<>();
        for (JsonNode panel : dashboardJson().path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                out.add(
                        new Query(
                                "panel " + panel.path("title").asText(),
                                target.path("expr").asText()));
            }
        }
        return out;
    }

    /** The dashboard JSON carried by the ConfigMap in k8s/monitoring/grafana-dashboard.yaml. */
    static JsonNode dashboardJson() {
        JsonNode configMap =
                Manifests.single(Manifests.k8s().resolve("monitoring/grafana-dashboard.yaml"));
        try {
            return new ObjectMapper().readTree(configMap.path("data").path("seqrec.json").asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The metric names a PromQL expression selects: identifiers that are not functions (followed by
     * a parenthesis), keywords, label names in braces or label lists, durations in brackets,
     * strings or Grafana variables ({@code $job}, {@code $__rate_interval}).
     */
    public static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");
        s = s.replaceAll("\\{[^}]*\\}", "{}");
        s = s.replaceAll("\\[[^\\]]*\\]", "[]");
        s = LABEL_LIST.matcher(s).replaceAll("$1 ()");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String word = m.group(1);
            boolean function = m.group(2) != null;
            if (!function && !KEYWORDS.contains(word) && !word.matches("\\d.*")) {
                names.add(word);
            }
        }
        return names;
    }
}
