package io.seqrec.deploy;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import org.apache.flink.annotation.docs.Documentation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;

/**
 * Every configuration key Flink itself defines, collected by reflection from the static {@link
 * ConfigOption} fields of the {@code *Options} classes in the Flink jars on the test classpath
 * (core, runtime, clients, streaming, RocksDB, the Prometheus reporter), with their fallback and
 * deprecated keys. Options documented as suffixes (reporter options such as {@code factory.class},
 * keyed under {@code metrics.reporter.<name>.}) and templated keys ({@code
 * external-resource.<resource_name>.amount}) become patterns.
 *
 * <p>The options of the Flink Kubernetes Operator's autoscaler (keys {@code job.autoscaler.*},
 * which a FlinkDeployment may set per job) come from its jar in a directory Maven fills, read
 * through a class loader of its own; the operator's own keys it admits are listed ({@link
 * #OPERATOR_KEYS}), as its jar is not on Maven Central.
 *
 * <p>Two kinds of keys are not {@code ConfigOption}s in Flink and are admitted explicitly, each for
 * a stated reason: a reporter's own parameters (the {@code ARG_*} constants its factory reads, e.g.
 * the Prometheus reporter's {@code port}) under {@code metrics.reporter.<name>.}, and the few keys
 * the S3 file-system plugins forward to their S3 client ({@link #S3_FORWARDED}).
 */
final class FlinkConfigKeys {
    /**
     * Documented in Flink's S3 file-system guide; the plugins (not on this classpath) mirror {@code
     * s3.*} keys into their S3 client's configuration rather than declaring ConfigOptions.
     */
    static final Set<String> S3_FORWARDED =
            Set.of("s3.endpoint", "s3.path.style.access", "s3.access-key", "s3.secret-key");

    /**
     * The suffix of {@code external-resource.<name>.kubernetes.config-key}: a String constant in
     * flink-kubernetes' {@code KubernetesConfigOptions}
     * (EXTERNAL_RESOURCE_KUBERNETES_CONFIG_KEY_SUFFIX), which is not on this classpath; the GPU
     * overlay needs it to request nvidia.com/gpu.
     */
    static final String KUBERNETES_EXTERNAL_RESOURCE_SUFFIX = "kubernetes.config-key";

    private final Set<String> keys = new TreeSet<>();
    private final List<Pattern> patterns = new ArrayList<>();
    private final List<String> classes = new ArrayList<>();
    private final List<String> wildcards = new ArrayList<>();

    private FlinkConfigKeys() {}

    /**
     * Operator keys the deployment sets that no jar here defines. The operator's own options
     * ({@code KubernetesOperatorConfigOptions}) live in its jar, which is not published on Maven
     * Central; each kubernetes.operator key was read from that class in the operator's source at
     * the tags release-1.10.0 and release-1.14.0, where all five are defined. The autoscaler's jar
     * on Maven Central is 1.10.0 (none newer); its 1.14 keys are listed as well.
     */
    static final Set<String> OPERATOR_KEYS =
            Set.of(
                    "kubernetes.operator.job.restart.failed",
                    "kubernetes.operator.snapshot.resource.enabled",
                    "kubernetes.operator.periodic.savepoint.interval",
                    "kubernetes.operator.savepoint.history.max.count",
                    "kubernetes.operator.savepoint.history.max.age",
                    // Autoscaler keys of 1.14 (which k8s/README.md installs) that replace the
                    // 1.10 jar's job.autoscaler.target.utilization(.boundary), deprecated in 1.14;
                    // read from AutoScalerOptions at the tag release-1.14.0.
                    "job.autoscaler.utilization.target",
                    "job.autoscaler.utilization.min",
                    "job.autoscaler.utilization.max");

    /**
     * System property naming the directory Maven copies the operator's autoscaler jar to (pom.xml,
     * execution operator-config-jars): its ConfigOptions are the {@code job.autoscaler.*} keys a
     * FlinkDeployment may set.
     */
    static final String OPERATOR_JARS_PROPERTY = "seqrec.operator.config.jars";

    static FlinkConfigKeys scan() {
        FlinkConfigKeys k = new FlinkConfigKeys();
        ClassLoader testLoader = FlinkConfigKeys.class.getClassLoader();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = new File(entry).getName();
            if (name.startsWith("flink-") && name.endsWith(".jar") && !name.contains("tests")) {
                k.scanJar(new File(entry), testLoader);
            }
        }
        String operatorJars = System.getProperty(OPERATOR_JARS_PROPERTY);
        if (operatorJars == null) {
            throw new IllegalStateException(
                    OPERATOR_JARS_PROPERTY + " is not set: run the test through Maven");
        }
        File[] jars = new File(operatorJars).listFiles((dir, n) -> n.endsWith(".jar"));
        if (jars == null || jars.length == 0) {
            throw new IllegalStateException("no operator jars in " + operatorJars);
        }
        for (File jar : jars) {
            // Not on the class path: the autoscaler jar carries its own copies of some of
            // flink-runtime's REST classes. A loader of its own sees only its option classes.
            try {
                k.scanJar(
                        jar,
                        new java.net.URLClassLoader(
                                new java.net.URL[] {jar.toURI().toURL()}, testLoader));
            } catch (java.net.MalformedURLException e) {
                throw new IllegalStateException(e);
            }
        }
        k.patterns.add(template("external-resource.<name>." + KUBERNETES_EXTERNAL_RESOURCE_SUFFIX));
        return k;
    }

    private void scanJar(File jar, ClassLoader loader) {
        try (JarFile f = new JarFile(jar)) {
            for (Enumeration<JarEntry> e = f.entries(); e.hasMoreElements(); ) {
                String n = e.nextElement().getName();
                if (n.startsWith("org/apache/flink/")
                        && n.endsWith("Options.class")
                        && !n.contains("$")) {
                    scanClass(n.substring(0, n.length() - 6).replace('/', '.'), loader);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void scanClass(String className, ClassLoader loader) {
        Class<?> c;
        try {
            c = Class.forName(className, true, loader);
        } catch (Throwable notLoadable) {
            return; // optional dependencies of unrelated modules
        }
        boolean any = false;
        for (Field f : c.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers())
                    || !ConfigOption.class.isAssignableFrom(f.getType())) {
                continue;
            }
            ConfigOption<?> option;
            try {
                f.setAccessible(true);
                option = (ConfigOption<?>) f.get(null);
            } catch (Throwable e) {
                continue;
            }
            any = true;
            Documentation.SuffixOption suffix = f.getAnnotation(Documentation.SuffixOption.class);
            String prefix = suffix == null ? "" : suffix.value() + ".";
            add(prefix + option.key());
            for (FallbackKey fallback : option.fallbackKeys()) {
                add(prefix + fallback.getKey());
            }
        }
        if (any) {
            classes.add(className);
        }
    }

    private void add(String key) {
        if (key.endsWith(">")) {
            // "metrics.reporter.<name>.<parameter>": Flink's placeholder for whatever a reporter
            // reads; checked against that reporter's own parameters instead (isKnown).
            wildcards.add(key);
        } else if (key.contains("<")) {
            patterns.add(template(key));
        } else {
            keys.add(key);
        }
    }

    private static Pattern template(String key) {
        StringBuilder regex = new StringBuilder();
        for (String part : key.split("(?=<)|(?<=>)")) {
            regex.append(part.startsWith("<") ? "[^.]+" : Pattern.quote(part));
        }
        return Pattern.compile(regex.toString());
    }

    /** Templated keys ending in a placeholder, which are not used as patterns. */
    List<String> wildcards() {
        return wildcards;
    }

    /** The *Options classes that contributed keys. */
    List<String> classes() {
        return classes;
    }

    int size() {
        return keys.size();
    }

    /**
     * Whether {@code key} is a Flink option. Reporter keys ({@code metrics.reporter.<name>.x}) are
     * known when x is a reporter option or a parameter of the reporter {@code factoryClass} (the
     * value of that reporter's factory.class).
     */
    boolean isKnown(String key, java.util.Map<String, String> config) {
        if (keys.contains(key) || S3_FORWARDED.contains(key) || OPERATOR_KEYS.contains(key)) {
            return true;
        }
        for (Pattern p : patterns) {
            if (p.matcher(key).matches()) {
                return true;
            }
        }
        var reporter = Pattern.compile("metrics\\.reporter\\.([^.]+)\\.(.+)").matcher(key);
        if (reporter.matches()) {
            String factory = config.get("metrics.reporter." + reporter.group(1) + ".factory.class");
            return factory != null && reporterParameters(factory).contains(reporter.group(2));
        }
        return false;
    }

    /** The String constants named ARG_* of a reporter factory: the parameters it reads. */
    static Set<String> reporterParameters(String factoryClass) {
        Set<String> params = new TreeSet<>();
        try {
            for (Field f : Class.forName(factoryClass).getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())
                        && f.getType() == String.class
                        && f.getName().startsWith("ARG_")) {
                    f.setAccessible(true);
                    params.add((String) f.get(null));
                }
            }
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("reporter factory not found: " + factoryClass, e);
        }
        return params;
    }
}
