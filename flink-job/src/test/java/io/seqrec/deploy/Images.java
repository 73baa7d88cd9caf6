package io.seqrec.deploy;

import io.seqrec.TestPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;

/** What the Dockerfiles put where, read from the Dockerfiles themselves. */
final class Images {
    private Images() {}

    static Path dockerfile() {
        return Manifests.docker().resolve("Dockerfile");
    }

    static Path gpuDockerfile() {
        return Manifests.docker().resolve("Dockerfile.gpu");
    }

    static Path trainingDockerfile() {
        return Manifests.docker().resolve("Dockerfile.train");
    }

    /**
     * The tag of the build command in the Dockerfile's header ({@code docker build ... -t TAG}).
     */
    static String documentedTag(Path dockerfile) {
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("docker build .* -t (\\S+) \\.")
                        .matcher(Manifests.read(dockerfile));
        if (!m.find()) {
            throw new AssertionError(dockerfile + ": no 'docker build ... -t TAG .' in its header");
        }
        return m.group(1);
    }

    /** Destinations of the COPY instructions of the final stage. */
    static List<String> finalStageCopyDestinations(Path dockerfile) {
        List<String> lines = instructions(dockerfile);
        int lastFrom = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("FROM ")) {
                lastFrom = i;
            }
        }
        List<String> out = new ArrayList<>();
        for (String l : lines.subList(lastFrom, lines.size())) {
            if (l.startsWith("COPY ")) {
                String[] words = l.trim().split("\\s+");
                out.add(words[words.length - 1]);
            }
        }
        return out;
    }

    /** COPY source to destination pairs of the final stage (flags dropped). */
    static List<String[]> finalStageCopies(Path dockerfile) {
        List<String[]> out = new ArrayList<>();
        List<String> lines = instructions(dockerfile);
        int lastFrom = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("FROM ")) {
                lastFrom = i;
            }
        }
        for (String l : lines.subList(lastFrom, lines.size())) {
            if (l.startsWith("COPY ")) {
                List<String> words = new ArrayList<>();
                for (String w : l.substring(5).trim().split("\\s+")) {
                    if (!w.startsWith("--")) {
                        words.add(w);
                    }
                }
                out.add(new String[] {words.get(0), words.get(words.size() - 1)});
            }
        }
        return out;
    }

    /** Instructions with continuation lines joined, comments dropped. */
    static List<String> instructions(Path dockerfile) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Manifests.read(dockerfile).split("\n")) {
            if (line.trim().startsWith("#") || line.isBlank()) {
                continue;
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
            } else {
                current.append(line);
                out.add(current.toString().trim());
                current.setLength(0);
            }
        }
        return out;
    }

    /** The tags of every {@code flink:} image the Dockerfile builds from or copies from. */
    static List<String> flinkImageTags(Path dockerfile) {
        List<String> tags = new ArrayList<>();
        Matcher m =
                Pattern.compile("(?:FROM|--from=)\\s*flink:(\\S+)")
                        .matcher(Manifests.read(dockerfile));
        while (m.find()) {
            tags.add(m.group(1));
        }
        return tags;
    }

    /** A property of the parent pom (the one place versions are set). */
    static String pomProperty(String name) {
        try {
            var doc =
                    DocumentBuilderFactory.newInstance()
                            .newDocumentBuilder()
                            .parse(TestPaths.repoRoot().resolve("pom.xml").toFile());
            var nodes = doc.getElementsByTagName(name);
            if (nodes.getLength() != 1) {
                throw new AssertionError("pom.xml: property " + name + " not found once");
            }
            return nodes.item(0).getTextContent().trim();
        } catch (AssertionError e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The uid:gid of the final stage's USER instruction. */
    static String user(Path dockerfile) {
        String user = null;
        for (String l : instructions(dockerfile)) {
            if (l.startsWith("USER ")) {
                user = l.substring(5).trim();
            }
        }
        return user;
    }
}
