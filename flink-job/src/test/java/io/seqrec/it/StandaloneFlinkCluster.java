package io.seqrec.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.broker.ParentWatchdog;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;
import org.apache.kafka.common.utils.Utils;

/**
 * A standalone Flink session cluster of separate JVMs on this machine, started the way Flink's
 * {@code bin/} scripts start one, from the Flink distribution Maven assembles in {@code
 * target/flink-dist} (system property {@code seqrec.flink.dist}: {@code lib/} with Flink's runtime,
 * client, DataStream API, RocksDB backend, log4j, DJL and ONNX Runtime; {@code plugins/} with the
 * Prometheus reporter).
 *
 * <p>What it promises:
 *
 * <ul>
 *   <li>{@link #start} writes {@code conf/config.yaml} (the given settings plus the addresses,
 *       ports and memory sizes of one host) and starts a JobManager ({@code
 *       StandaloneSessionClusterEntrypoint}); {@link #startTaskManager} starts a {@code
 *       TaskManagerRunner} and returns once it registered. Each JVM gets the memory options {@code
 *       taskmanager.sh}/{@code jobmanager.sh} compute from the configuration (Flink's own {@code
 *       *ProcessUtils}, as {@code BashJavaUtils} does), {@code env.java.default-opts.all} and
 *       {@code env.java.opts.all}, its own temporary directory, and logs in {@code log/}: Flink's
 *       log ({@code NAME.log}), standard output ({@code NAME.out}) and the JVM's native-library log
 *       ({@code NAME-library.log}, {@code -Xlog:library}).
 *   <li>{@link #flink} runs Flink's command-line frontend ({@code CliFrontend}, what {@code
 *       bin/flink} runs) as its own JVM against the cluster.
 *   <li>{@link #kill} ends a process with SIGKILL, as a crash would.
 *   <li>Every process dies with this JVM, even if this JVM is killed: each watches its standard
 *       input ({@link ParentWatchdog}), which closes when the parent goes away.
 *   <li>{@link #close()} stops every process and deletes the temporary directories; configuration,
 *       logs and checkpoints stay in the cluster's directory for diagnosis.
 * </ul>
 */
final class StandaloneFlinkCluster implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private static final Pattern SUBMITTED = Pattern.compile("JobID ([0-9a-f]{32})");

    private final Path home;
    private final Path dist;
    private final Path conf;
    private final Configuration configuration;
    private final int restPort;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private final Thread killOnExit;
    private int cliRuns;

    private StandaloneFlinkCluster(
            Path home, Path dist, Configuration configuration, int restPort) {
        this.home = home;
        this.dist = dist;
        this.conf = home.resolve("conf");
        this.configuration = configuration;
        this.restPort = restPort;
        this.killOnExit = new Thread(this::destroyAll, "standalone-flink-reaper");
    }

    /**
     * Starts the JobManager of a cluster configured with {@code settings} over the host-specific
     * ones (addresses, ports, memory, temporary directories), in a new directory under {@code
     * workDir}; returns once its REST endpoint answers.
     */
    static StandaloneFlinkCluster start(Path workDir, Map<String, String> settings)
            throws IOException {
        Path dist = Path.of(System.getProperty("seqrec.flink.dist", "target/flink-dist"));
        if (!Files.isDirectory(dist.resolve("lib"))) {
            throw new IllegalStateException(
                    "No Flink distribution at "
                            + dist
                            + ": run the ITCases through Maven (failsafe), which assembles it");
        }
        Files.createDirectories(workDir);
        Path home = Files.createTempDirectory(workDir, "flink-");
        Files.createDirectories(home.resolve("conf"));
        Files.createDirectories(home.resolve("log"));
        int restPort = freePort();
        Map<String, String> all = new LinkedHashMap<>();
        all.put("jobmanager.rpc.address", "localhost");
        all.put("jobmanager.rpc.port", Integer.toString(freePort()));
        all.put("jobmanager.bind-host", "localhost");
        all.put("rest.address", "localhost");
        all.put("rest.bind-address", "localhost");
        all.put("rest.port", Integer.toString(restPort));
        all.put("taskmanager.host", "localhost");
        all.put("taskmanager.bind-host", "localhost");
        // Small processes: five JVMs (three Flink, the CLI, the test) share 2 cores here.
        all.put("jobmanager.memory.process.size", "1024m");
        all.put("taskmanager.memory.process.size", "2048m");
        all.putAll(settings);
        // The deployment reserves ONNX Runtime's native memory for 4 GiB task managers serving a
        // registry (up to 4 sessions a slot); these serve one --model: 34 MB + 2 sessions of at
        // most 56 MB (k8s/README.md, "Memory") fit in 192m, and leave the task heap ~345 MB.
        all.put("taskmanager.memory.task.off-heap.size", "192m");
        StringBuilder yaml = new StringBuilder();
        // Flat keys, quoted values: Flink's YAML parser reads both as it reads the operator's.
        all.forEach(
                (k, v) ->
                        yaml.append(k)
                                .append(": \"")
                                .append(v.replace("\\", "\\\\").replace("\"", "\\\""))
                                .append("\"\n"));
        Files.writeString(home.resolve("conf/config.yaml"), yaml);
        Files.writeString(home.resolve("conf/log4j.properties"), LOG4J);
        copyLauncherClasses(home.resolve("launcher"));
        Configuration configuration =
                GlobalConfiguration.loadConfiguration(home.resolve("conf").toString());
        StandaloneFlinkCluster cluster =
                new StandaloneFlinkCluster(home, dist, configuration, restPort);
        Runtime.getRuntime().addShutdownHook(cluster.killOnExit);
        try {
            JobManagerProcessSpec spec =
                    JobManagerProcessUtils.processSpecFromConfig(configuration);
            cluster.launch(
                    "jobmanager",
                    CoreOptions.FLINK_JM_JVM_OPTIONS,
                    JobManagerProcessUtils.generateJvmParametersStr(spec, configuration),
                    "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                    words(JobManagerProcessUtils.generateDynamicConfigsStr(spec)));
            cluster.awaitRest();
        } catch (RuntimeException | IOException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    /** Starts a TaskManager process called {@code name}; returns once it has registered. */
    void startTaskManager(String name) throws IOException {
        TaskExecutorProcessSpec spec =
                TaskExecutorProcessUtils.processSpecFromConfig(configuration);
        launch(
                name,
                CoreOptions.FLINK_TM_JVM_OPTIONS,
                ProcessMemoryUtils.generateJvmParametersStr(spec),
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                words(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec)));
        Process process = processes.get(name);
        await(
                "task manager " + name + " registered",
                () -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException(
                                name + " exited with status " + process.exitValue() + tail(name));
                    }
                    // Its own log says so: the REST API's count also drops when one is lost.
                    Path log = log(name + ".log");
                    return Files.exists(log)
                            && Files.readString(log)
                                    .contains("Successful registration at resource manager");
                },
                START_TIMEOUT);
    }

    /**
     * Runs {@code bin/flink ARGS} (Flink's {@code CliFrontend} in its own JVM) and returns its
     * output; fails unless it exits with status 0.
     */
    String flink(String... args) throws IOException, InterruptedException {
        String name = "cli-" + (++cliRuns);
        Process cli =
                launch(
                        name,
                        CoreOptions.FLINK_CLI_JVM_OPTIONS,
                        // bin/flink sets no heap size; the CLI loads the model once to probe it.
                        "-Xmx512m",
                        "org.apache.flink.client.cli.CliFrontend",
                        List.of(args));
        if (!cli.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            cli.destroyForcibly();
            throw new IllegalStateException("flink " + args[0] + " did not finish" + tail(name));
        }
        String out = Files.readString(log(name + ".out"));
        if (cli.exitValue() != 0) {
            throw new IllegalStateException(
                    "flink " + args[0] + " exited with status " + cli.exitValue() + ":\n" + out);
        }
        return out;
    }

    /** {@code flink run -d ARGS}: submits a job, detached, and returns its id. */
    String submit(String... args) throws IOException, InterruptedException {
        List<String> run = new ArrayList<>(List.of("run", "-d"));
        run.addAll(List.of(args));
        String out = flink(run.toArray(String[]::new));
        Matcher m = SUBMITTED.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no job id in the output of flink run:\n" + out);
        }
        return m.group(1);
    }

    /** Kills the process {@code name} at once (SIGKILL), as a crash would, and waits for it. */
    void kill(String name) throws InterruptedException {
        Process p = processes.get(name);
        p.destroyForcibly();
        p.waitFor();
    }

    /** A GET of the cluster's REST API, e.g. {@code /jobs/ID/checkpoints}. */
    JsonNode rest(String path) {
        try {
            HttpResponse<String> r =
                    http.send(
                            HttpRequest.newBuilder(
                                            URI.create("http://localhost:" + restPort + path))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET " + path + ": " + r.statusCode() + r.body());
            }
            return json.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A file of the cluster's {@code log/} directory, e.g. {@code tm-a-library.log}. */
    Path log(String fileName) {
        return home.resolve("log").resolve(fileName);
    }

    /** The configuration every process reads. */
    Configuration configuration() {
        return configuration;
    }

    /** Polls {@code condition} every 200 ms until it holds; fails after {@code timeout}. */
    static void await(String what, IOCheck condition, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for: " + what);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** A condition that may read files or the REST API. */
    interface IOCheck {
        boolean holds() throws IOException;
    }

    @Override
    public void close() {
        // SIGTERM first: Flink's processes shut down cleanly and release their ports.
        processes.values().forEach(Process::destroy);
        for (Process p : processes.values()) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down; the hook kills the processes anyway.
        }
        // Flink's RPC jar (~21 MB per process) and ONNX Runtime's natives go there.
        try {
            Utils.delete(home.resolve("tmp").toFile());
        } catch (IOException e) {
            // Left-over temporary files are harmless; failing the test over them is not.
        }
    }

    private void destroyAll() {
        processes.values().forEach(Process::destroyForcibly);
    }

    /**
     * Starts {@code mainClass} as {@code name} with the class path of the distribution's {@code
     * lib/}, the way {@code flink-daemon.sh} and {@code bin/flink} do: {@code
     * env.java.default-opts.all}, {@code env.java.opts.all} and the component's own options, then
     * {@code jvmParameters}; the arguments are {@code --configDir conf}, its temporary directory
     * and {@code arguments} (for {@code CliFrontend}, {@code arguments} only: its command line).
     */
    private Process launch(
            String name,
            ConfigOption<String> componentOptions,
            String jvmParameters,
            String mainClass,
            List<String> arguments)
            throws IOException {
        Path tmp = Files.createDirectories(home.resolve("tmp").resolve(name));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(words(configuration.get(CoreOptions.FLINK_DEFAULT_JVM_OPTIONS)));
        command.addAll(words(configuration.get(CoreOptions.FLINK_JVM_OPTIONS)));
        command.addAll(words(configuration.get(componentOptions)));
        command.addAll(words(jvmParameters));
        command.addAll(
                List.of(
                        // C1 only: on 2 shared cores C2 would spend the test's first minute
                        // compiling; the hot path is native (ONNX Runtime, RocksDB).
                        "-XX:TieredStopAtLevel=1",
                        "-Djava.io.tmpdir=" + tmp,
                        "-Dlog.file=" + log(name + ".log"),
                        "-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri(),
                        // Every native library this JVM loads, and from where.
                        "-Xlog:library=info:file=" + log(name + "-library.log"),
                        "-cp",
                        dist.resolve("lib").toAbsolutePath()
                                + "/*"
                                + java.io.File.pathSeparator
                                + home.resolve("launcher"),
                        ChildMain.class.getName(),
                        mainClass));
        if (!mainClass.endsWith("CliFrontend")) {
            command.addAll(List.of("--configDir", conf.toString(), "-D", "io.tmp.dirs=" + tmp));
        }
        command.addAll(arguments);
        ProcessBuilder builder =
                new ProcessBuilder(command)
                        .directory(home.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(log(name + ".out").toFile());
        builder.environment().put("FLINK_CONF_DIR", conf.toString());
        builder.environment()
                .put("FLINK_PLUGINS_DIR", dist.resolve("plugins").toAbsolutePath().toString());
        builder.environment().put("OPT_OUT_TRACKING", "true");
        Process process = builder.start();
        processes.put(name, process);
        return process;
    }

    private void awaitRest() throws IOException {
        Process jobManager = processes.get("jobmanager");
        await(
                "the JobManager's REST endpoint",
                () -> {
                    if (!jobManager.isAlive()) {
                        throw new IllegalStateException(
                                "the JobManager exited with status "
                                        + jobManager.exitValue()
                                        + tail("jobmanager"));
                    }
                    try {
                        rest("/overview");
                        return true;
                    } catch (UncheckedIOException notYet) {
                        return false;
                    }
                },
                START_TIMEOUT);
    }

    private String tail(String name) {
        StringBuilder s = new StringBuilder();
        for (String f : List.of(name + ".out", name + ".log")) {
            try {
                List<String> lines = Files.readAllLines(log(f));
                s.append("\nend of ")
                        .append(log(f))
                        .append(":\n")
                        .append(
                                String.join(
                                        "\n",
                                        lines.subList(
                                                Math.max(0, lines.size() - 30), lines.size())));
            } catch (IOException e) {
                s.append("\n(").append(f).append(" unreadable: ").append(e).append(')');
            }
        }
        return s.toString();
    }

    private static List<String> words(String s) {
        return s == null || s.isBlank()
                ? List.of()
                : Arrays.stream(s.trim().split("\\s+")).collect(Collectors.toList());
    }

    /**
     * Only {@link ChildMain} and {@link ParentWatchdog} go on the processes' class path, not the
     * test classes (whose log4j2-test.properties and classes Flink must not see).
     */
    private static void copyLauncherClasses(Path dir) throws IOException {
        for (Class<?> c : List.of(ChildMain.class, ParentWatchdog.class)) {
            String resource = c.getName().replace('.', '/') + ".class";
            Path target = dir.resolve(resource);
            Files.createDirectories(target.getParent());
            try (InputStream in = c.getClassLoader().getResourceAsStream(resource)) {
                Files.copy(in, target);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static final String LOG4J =
            String.join(
                    "\n",
                    "rootLogger.level = INFO",
                    "rootLogger.appenderRef.file.ref = FILE",
                    "appender.file.type = File",
                    "appender.file.name = FILE",
                    "appender.file.fileName = ${sys:log.file}",
                    "appender.file.layout.type = PatternLayout",
                    "appender.file.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c - %m%n",
                    // Kafka clients log every configuration at INFO: one per producer.
                    "logger.kafka.name = org.apache.kafka",
                    "logger.kafka.level = WARN",
                    "");

    /**
     * Entry point of every child JVM: a watchdog that halts it when the parent's end of standard
     * input closes, then the Flink main class named by the first argument, with the rest.
     */
    static final class ChildMain {
        private ChildMain() {}

        public static void main(String[] args) throws Exception {
            ParentWatchdog.start();
            Class.forName(args[0])
                    .getMethod("main", String[].class)
                    .invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        }
    }
}
