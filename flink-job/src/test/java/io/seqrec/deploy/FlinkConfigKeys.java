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

    static FlinkConfigKeys scan() {
        FlinkConfigKeys k = new FlinkConfigKeys();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = new File(entry).getName();
            if (name.startsWith("flink-") && name.endsWith(".jar") && !name.contains("tests")) {
                k.scanJar(new File(entry));
            }
        }
        k.patterns.add(template("external-resource.<name>." + KUBERNETES_EXTERNAL_RESOURCE_SUFFIX));
        return k;
    }

    private void scanJar(File jar) {
        try (JarFile f = new JarFile(jar)) {
            for (Enumeration<JarEntry> e = f.entries(); e.hasMoreElements(); ) {
                String n = e.nextElement().getName();
                if (n.startsWith("org/apache/flink/")
                        && n.endsWith("Options.class")
                        && !n.contains("$")) {
                    scanClass(n.substring(0, n.length() - 6).replace('/', '.'));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void scanClass(String className) {
        Class<?> c;
        try {
            c = Class.forName(className);
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
        if (keys.contains(key) || S3_FORWARDED.contains(key)) {
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
