package io.seqrec.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A Dockerfile's build stages carried out without a Docker engine: the build context Docker would
 * send (the context directory less what the {@code .dockerignore} leaves out), each stage's
 * filesystem as a directory ("/" of the stage), COPY applied as Docker applies it, and RUN run with
 * {@code /bin/sh -c} in the stage's WORKDIR on this machine's tools (the JDK of the test, the Maven
 * wrapper against the local repository, offline).
 */
final class DockerBuild {
    private DockerBuild() {}

    /** One stage: {@code FROM base [AS name]} and the instructions after it. */
    record Stage(String base, String name, List<String> instructions) {
        boolean isNamed(String other) {
            return other.equals(name);
        }
    }

    /** A COPY instruction: its --from (null: the build context), sources and destination. */
    record Copy(String from, List<String> sources, String destination) {}

    static List<Stage> stages(Path dockerfile) {
        List<Stage> stages = new ArrayList<>();
        for (String line : Images.instructions(dockerfile)) {
            if (keyword(line).equals("FROM")) {
                List<String> words = new ArrayList<>();
                for (String w : line.substring(5).trim().split("\\s+")) {
                    if (!w.startsWith("--")) {
                        words.add(w);
                    }
                }
                String name =
                        words.size() == 3 && words.get(1).equalsIgnoreCase("AS")
                                ? words.get(2)
                                : null;
                stages.add(new Stage(words.get(0), name, new ArrayList<>()));
            } else if (stages.isEmpty()) {
                if (!keyword(line).equals("ARG")) {
                    throw new AssertionError(dockerfile + ": '" + line + "' before the first FROM");
                }
            } else {
                stages.get(stages.size() - 1).instructions().add(line);
            }
        }
        return stages;
    }

    static String keyword(String instruction) {
        int space = instruction.indexOf(' ');
        return (space < 0 ? instruction : instruction.substring(0, space))
                .toUpperCase(java.util.Locale.ROOT);
    }

    static Copy copy(String instruction) {
        String args = instruction.substring(instruction.indexOf(' ') + 1).trim();
        if (args.startsWith("[")) {
            throw new AssertionError("COPY in JSON form is not handled here: " + instruction);
        }
        String from = null;
        List<String> words = new ArrayList<>();
        for (String w : args.split("\\s+")) {
            if (w.startsWith("--from=")) {
                from = w.substring("--from=".length());
            } else if (w.startsWith("--chown=") || w.startsWith("--chmod=") || w.equals("--link")) {
                continue; // ownership and layering: no bearing on what is copied
            } else if (w.startsWith("--")) {
                throw new AssertionError("COPY flag not handled here: " + w + " in " + instruction);
            } else {
                words.add(w);
            }
        }
        return new Copy(from, words.subList(0, words.size() - 1), words.get(words.size() - 1));
    }

    /**
     * The ignore file Docker reads for this Dockerfile: {@code <Dockerfile>.dockerignore} first.
     */
    static Path ignoreFile(Path dockerfile, Path context) {
        Path own = dockerfile.resolveSibling(dockerfile.getFileName() + ".dockerignore");
        return Files.exists(own) ? own : context.resolve(".dockerignore");
    }

    static DockerIgnore ignore(Path dockerfile, Path context) {
        Path file = ignoreFile(dockerfile, context);
        return Files.exists(file) ? DockerIgnore.parse(Manifests.read(file)) : DockerIgnore.none();
    }

    /**
     * The files of the build context ({@code /}-separated paths relative to it): what Docker sends.
     * Symbolic links are entries of their own, not followed, as Docker sends them.
     */
    static TreeSet<String> contextFiles(Path context, DockerIgnore ignore) {
        TreeSet<String> files = new TreeSet<>();
        try {
            Files.walkFileTree(
                    context,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes a) {
                            String rel = relative(context, dir);
                            return !rel.isEmpty()
                                            && ignore.excludes(rel)
                                            && !ignore.mayReinclude(rel)
                                    ? FileVisitResult.SKIP_SUBTREE
                                    : FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes a) {
                            String rel = relative(context, file);
                            if (!ignore.excludes(rel)) {
                                files.add(rel);
                            }
                            return FileVisitResult.CONTINUE;
                        }
                    });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    /**
     * The entries a COPY source names in a tree of files, mapped to where they land below {@code
     * destination}: a file to {@code destination/name} (or to {@code destination} itself when that
     * is a file name), a directory's contents into {@code destination}. Fails as Docker does when a
     * source names nothing.
     */
    static Map<String, String> resolve(Copy copy, TreeSet<String> files, String where) {
        Map<String, String> out = new HashMap<>();
        boolean intoDirectory = copy.destination().endsWith("/") || copy.sources().size() > 1;
        for (String source : copy.sources()) {
            String clean = Path.of("/" + source).normalize().toString().substring(1);
            List<String> matched = matches(clean, files);
            if (matched.isEmpty()) {
                throw new AssertionError(
                        "COPY "
                                + source
                                + ": not in "
                                + where
                                + " (missing, or left out by .dockerignore)");
            }
            for (String entry : matched) {
                if (files.contains(entry)) {
                    String name = entry.substring(entry.lastIndexOf('/') + 1);
                    out.put(
                            entry,
                            intoDirectory || matched.size() > 1
                                    ? join(copy.destination(), name)
                                    : copy.destination());
                } else {
                    String prefix = entry.isEmpty() ? "" : entry + "/";
                    for (String f : files.tailSet(prefix)) {
                        if (!f.startsWith(prefix)) {
                            break;
                        }
                        out.put(f, join(copy.destination(), f.substring(prefix.length())));
                    }
                }
            }
        }
        return out;
    }

    /** Files and directories (those holding files) that a COPY source pattern names. */
    private static List<String> matches(String source, TreeSet<String> files) {
        boolean wildcard = source.matches(".*[*?\\[].*");
        TreeSet<String> entries = new TreeSet<>();
        for (String f : files) {
            entries.add(f);
            for (int slash = f.indexOf('/'); slash >= 0; slash = f.indexOf('/', slash + 1)) {
                entries.add(f.substring(0, slash));
            }
        }
        entries.add("");
        if (!wildcard) {
            return entries.contains(source) ? List.of(source) : List.of();
        }
        Pattern p = Pattern.compile(globToRegex(source));
        return entries.stream().filter(e -> p.matcher(e).matches()).toList();
    }

    private static String globToRegex(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            re.append(
                    switch (c) {
                        case '*' -> "[^/]*";
                        case '?' -> "[^/]";
                        default -> Pattern.quote(String.valueOf(c));
                    });
        }
        return re.toString();
    }

    /**
     * Runs a stage in {@code root} (its "/"): COPY from the context, RUN in its WORKDIR. Fails with
     * the end of the output of a RUN that exits non-zero.
     */
    static void build(
            Stage stage, Path context, TreeSet<String> contextFiles, Path root, Path log) {
        String workdir = "/";
        Map<String, String> env = new HashMap<>();
        for (String line : stage.instructions()) {
            String args = line.substring(line.indexOf(' ') + 1).trim();
            switch (keyword(line)) {
                case "WORKDIR" -> workdir = Path.of(workdir).resolve(args).normalize().toString();
                case "ENV" -> env.putAll(envOf(args));
                case "COPY" -> {
                    Copy copy = copy(line);
                    if (copy.from() != null) {
                        throw new AssertionError("a build stage copying from another: " + line);
                    }
                    String base = workdir;
                    resolve(copy, contextFiles, "the build context")
                            .forEach(
                                    (from, to) ->
                                            place(
                                                    context.resolve(from),
                                                    inStage(
                                                            root,
                                                            Path.of(base)
                                                                    .resolve(to)
                                                                    .normalize()
                                                                    .toString())));
                }
                case "RUN" -> {
                    if (args.startsWith("[") || args.startsWith("--")) {
                        throw new AssertionError("RUN form not handled here: " + line);
                    }
                    run(args, inStage(root, workdir), env, log);
                }
                case "ARG", "LABEL", "USER", "EXPOSE", "ENTRYPOINT", "CMD" -> {}
                default -> throw new AssertionError("instruction not handled here: " + line);
            }
        }
    }

    static Path inStage(Path root, String absolute) {
        return root.resolve(absolute.replaceFirst("^/+", ""));
    }

    private static void place(Path from, Path to) {
        try {
            Files.createDirectories(to.getParent());
            Files.copy(
                    from,
                    to,
                    StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.COPY_ATTRIBUTES,
                    LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> envOf(String args) {
        Map<String, String> out = new HashMap<>();
        for (String pair : args.split("\\s+")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new AssertionError("ENV form not handled here: " + args);
            }
            out.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return out;
    }

    /**
     * {@code /bin/sh -c command}, as RUN's shell form. Maven runs offline ({@code MAVEN_ARGS=-o},
     * read by Maven 3.9's launcher, so the command is the Dockerfile's own) against the local
     * repository; the outer build's MAVEN_* variables (its project directory) are not passed on.
     */
    private static void run(String command, Path cwd, Map<String, String> env, Path log) {
        try {
            Files.createDirectories(cwd);
            ProcessBuilder pb =
                    new ProcessBuilder("/bin/sh", "-c", command).directory(cwd.toFile());
            pb.environment().keySet().removeIf(k -> k.startsWith("MAVEN_"));
            pb.environment().putAll(env);
            pb.environment().put("MAVEN_ARGS", "-o");
            pb.redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            Files.writeString(
                    log,
                    "\n$ " + command + "\n",
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            Process p = pb.start();
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(
                        "RUN " + command + ": still running after 30 min, log " + log);
            }
            if (p.exitValue() != 0) {
                List<String> lines = Files.readAllLines(log);
                throw new AssertionError(
                        "RUN "
                                + command
                                + " exited with "
                                + p.exitValue()
                                + " (log "
                                + log
                                + "):\n"
                                + String.join(
                                        "\n",
                                        lines.subList(
                                                Math.max(0, lines.size() - 40), lines.size())));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The files below a directory of a stage's filesystem, as a context-like set. */
    static TreeSet<String> filesUnder(Path root) {
        TreeSet<String> files = new TreeSet<>();
        if (!Files.isDirectory(root)) {
            return files;
        }
        try (var walk = Files.walk(root)) {
            walk.filter(p -> !Files.isDirectory(p)).forEach(p -> files.add(relative(root, p)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    static String relative(Path base, Path p) {
        return base.relativize(p).toString().replace('\\', '/');
    }

    private static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }
}
