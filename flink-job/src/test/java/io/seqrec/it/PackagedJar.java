package io.seqrec.it;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Runs the shaded job jar as users run it: its own JVM, Flink and logging on the classpath. */
final class PackagedJar {
    private PackagedJar() {}

    /**
     * A {@code seqrec} command (e.g. {@code run ...}) with stdout and stderr going to {@code log}.
     *
     * @param log4jConfig the log4j2 configuration the process uses
     * @param tmp its {@code java.io.tmpdir} goes in a fresh directory under this one
     */
    static ProcessBuilder seqrec(Path log, Path log4jConfig, Path tmp, String... args)
            throws Exception {
        return seqrec(log, List.of(log4jConfig), tmp, args);
    }

    /** As above, with log4j2 configurations composed in order (as {@code scripts/soak.sh} does). */
    static ProcessBuilder seqrec(Path log, List<Path> log4jConfigs, Path tmp, String... args)
            throws Exception {
        String jar = System.getProperty("seqrec.job.jar");
        Path target = Path.of(jar).getParent();
        String classpath =
                String.join(
                        File.pathSeparator,
                        jar,
                        Files.readString(target.resolve("provided.classpath")).trim(),
                        Files.readString(target.resolve("runtime.classpath")).trim());
        Path processTmp = Files.createDirectories(tmp.resolve("proc-tmp-" + System.nanoTime()));
        List<String> command =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Xmx1g",
                                "-Djava.io.tmpdir=" + processTmp,
                                "-Dai.djl.offline=true",
                                "-Dlog4j.configurationFile="
                                        + log4jConfigs.stream()
                                                .map(Path::toString)
                                                .collect(Collectors.joining(",")),
                                "-cp",
                                classpath,
                                "io.seqrec.cli.Main"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    }
}
