package io.seqrec.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.ModelContractException;
import io.seqrec.model.ModelVerifier;
import io.seqrec.model.OnnxSequenceModel;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model versions and the traffic split between them, kept on any file system Flink can reach
 * ({@code file://} locally, {@code s3://} and the others of Flink's file-system plugins on a
 * cluster):
 *
 * <pre>
 * URI/pointer.json                 which version serves whom ({@link RegistryPointer})
 * URI/versions/VERSION/metadata.json, items.txt, model.onnx, reference.jsonl
 *                                  (and item_vectors.f32, weights.pt if the artifact has them)
 * URI/versions/VERSION/_COMPLETE   written last: each file's size and SHA-256
 * URI/live/subtask-N.json          a serving subtask's live figures by version ({@link LiveReport})
 * </pre>
 *
 * <p>A version exists only once its {@code _COMPLETE} marker does: {@link #publish} writes the
 * files first and the marker last (one object, so atomic on object stores, where renaming a
 * directory is not), and every reader ignores a version without it. Publishing checks the artifact
 * contract and runs the model on its reference vectors before writing anything, and never replaces
 * a version. A pointer update rewrites the whole document in one step (on a local file system a
 * temporary file renamed over it; elsewhere one object write) after checking that the versions it
 * names are complete, and increases its revision by one. (On a distributed file system that is no
 * object store, such as HDFS, a reader may meet a pointer being written and fail to parse it; a
 * poller keeps what it serves and reads again.) Updates assume one writer at a time (a release
 * pipeline or one operator): two concurrent ones may both write the same revision.
 *
 * <p>A job polls {@link #pointer()} (one small read) and compares its revision with the one it
 * serves; for a new version it calls {@link #fetch} into a local directory, then loads the model
 * with {@link ModelVerifier#load}, which checks the reference vectors again where it will run.
 * Instances are immutable and may be shared between threads; they are not serializable: ship the
 * URI and {@link #open} it where it is used.
 */
public final class ModelRegistry {
    public static final String POINTER_FILE = "pointer.json";
    public static final String VERSIONS_DIR = "versions";
    public static final String COMPLETE_MARKER = "_COMPLETE";
    public static final String LIVE_DIR = "live";

    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

    /** The files a version holds: the artifact contract's and the reference vectors. */
    static final List<String> FILES =
            List.of(
                    ModelArtifact.METADATA_FILE,
                    ModelArtifact.ITEMS_FILE,
                    ModelArtifact.MODEL_FILE,
                    ModelVerifier.REFERENCE_FILE);

    /**
     * Files a version holds if its artifact has them: the item vectors that explain lists (read by
     * the job when the metadata declares them) and the PyTorch weights that {@code seqrec_model
     * train --init-from} warm-starts a retraining from (not read by the job).
     */
    static final List<String> OPTIONAL_FILES =
            List.of(ModelArtifact.ITEM_VECTORS_FILE, "weights.pt");

    /** A version name is one path segment of a URI: no separators, no leading dot. */
    private static final Pattern VERSION_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final URI uri;
    private final FileSystem fs;
    private final Path root;

    private ModelRegistry(URI uri, FileSystem fs) {
        this.uri = uri;
        this.fs = fs;
        this.root = new Path(uri);
    }

    /**
     * The registry at {@code location}: a URI of a Flink file system ({@code file:///srv/models},
     * {@code s3://bucket/models}) or a local path. Nothing is read yet: a location with nothing in
     * it is an empty registry.
     *
     * @throws RegistryException if no file system serves the URI's scheme (e.g. the S3 plugin is
     *     missing)
     */
    public static ModelRegistry open(String location) {
        try {
            URI uri =
                    location.matches("[a-zA-Z][a-zA-Z0-9+.-]*:.*")
                            ? new URI(location)
                            // not Path.toUri(), which ends in '/' only if the directory exists
                            : new URI(
                                    "file",
                                    "",
                                    java.nio.file.Path.of(location)
                                            .toAbsolutePath()
                                            .normalize()
                                            .toString(),
                                    null,
                                    null);
            return new ModelRegistry(uri, FileSystem.get(uri));
        } catch (URISyntaxException | IOException e) {
            throw new RegistryException("model registry '" + location + "': " + e.getMessage(), e);
        }
    }

    public URI uri() {
        return uri;
    }

    /**
     * The current pointer: one read of {@code pointer.json}.
     *
     * @throws RegistryException if nothing was published yet or the document is not a pointer
     * @throws UncheckedIOException if the storage cannot be read
     */
    public RegistryPointer pointer() {
        Path file = new Path(root, POINTER_FILE);
        try {
            return RegistryPointer.fromJson(read(file), file.toString());
        } catch (FileNotFoundException e) {
            throw new RegistryException(file + ": missing: nothing was published to " + uri, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** The complete versions, by name. */
    public List<String> versions() {
        Path dir = new Path(root, VERSIONS_DIR);
        try {
            FileStatus[] entries = fs.exists(dir) ? fs.listStatus(dir) : null;
            List<String> names = new ArrayList<>();
            for (FileStatus entry : entries == null ? new FileStatus[0] : entries) {
                if (entry.isDir() && fs.exists(new Path(entry.getPath(), COMPLETE_MARKER))) {
                    names.add(entry.getPath().getName());
                }
            }
            names.sort(null);
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Copies a complete version into {@code localDir} (created if missing; files there of the same
     * names are replaced), checks every file against the sizes and digests of its {@code _COMPLETE}
     * marker, and loads the copy's artifact.
     *
     * @throws RegistryException if the version is not complete in the registry
     * @throws ModelContractException if a file differs from what was published, or the copy breaks
     *     the artifact contract
     */
    public ModelArtifact fetch(String version, java.nio.file.Path localDir) {
        Map<String, Digest> published = manifest(checkName(version));
        Path dir = versionDir(version);
        try {
            Files.createDirectories(localDir);
            for (Map.Entry<String, Digest> file : published.entrySet()) {
                Path source = new Path(dir, file.getKey());
                Digest copied;
                try (InputStream in = fs.open(source);
                        OutputStream out = Files.newOutputStream(localDir.resolve(file.getKey()))) {
                    copied = copy(in, out);
                }
                if (!copied.equals(file.getValue())) {
                    throw new ModelContractException(
                            source
                                    + ": read "
                                    + copied
                                    + ", but "
                                    + COMPLETE_MARKER
                                    + " lists "
                                    + file.getValue()
                                    + ": the file changed after it was published");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot copy " + dir + " to " + localDir + ": " + e.getMessage(), e);
        }
        return ModelArtifact.load(localDir);
    }

    /**
     * As {@link #publish(java.nio.file.Path, String)} under the artifact's {@code model_version}.
     */
    public String publish(java.nio.file.Path artifactDir) {
        return publish(artifactDir, null);
    }

    /**
     * Adds the artifact in {@code artifactDir} as {@code version}, after checking its contract
     * ({@link ModelArtifact#load}) and that its model reproduces its reference vectors ({@link
     * ModelVerifier}). The registry's first version becomes its stable version; later ones serve
     * nobody until {@link #canary}.
     *
     * @param version the version's name, or {@code null} for the artifact's {@code model_version}
     * @return the version's name
     * @throws ModelContractException if the artifact is refused; nothing is written then
     * @throws RegistryException if the version exists, even incompletely
     */
    public String publish(java.nio.file.Path artifactDir, String version) {
        ModelArtifact artifact = ModelArtifact.load(artifactDir);
        String name = checkName(version == null ? artifact.modelVersion() : version);
        Path dir = versionDir(name);
        try {
            if (fs.exists(dir)) {
                throw new RegistryException(
                        fs.exists(new Path(dir, COMPLETE_MARKER))
                                ? "version " + name + " exists already in " + uri
                                : dir
                                        + " exists without "
                                        + COMPLETE_MARKER
                                        + ": a publish of "
                                        + name
                                        + " is running or was interrupted; if none is running,"
                                        + " delete it and publish again");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
        }
        try (OnnxSequenceModel verified = ModelVerifier.load(artifact, InferenceOptions.cpu(1))) {
            // loading checked the graph and the reference vectors
        }
        try {
            upload(artifact.dir(), dir);
            if (!fs.exists(new Path(root, POINTER_FILE))) {
                writePointer(RegistryPointer.first(name));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot publish " + name + " to " + uri + ": " + e.getMessage(), e);
        }
        return name;
    }

    /**
     * Routes {@code percent} of users (1..100) to {@code version}, replacing any canary.
     *
     * @return the new pointer
     */
    public RegistryPointer canary(String version, int percent) {
        checkName(version);
        if (percent < 1 || percent > 100) {
            throw new RegistryException("canary percent must be 1..100, got " + percent);
        }
        RegistryPointer current = pointer();
        if (version.equals(current.stable())) {
            throw new RegistryException(version + " is the stable version already");
        }
        return update(current.withCanary(version, percent));
    }

    /**
     * Makes the canary the stable version for every user; the stable one becomes the previous.
     *
     * @throws RegistryException if there is no canary
     */
    public RegistryPointer promote() {
        return update(pointer().promoted());
    }

    /**
     * Drops the canary if there is one; otherwise makes the previous stable version stable again.
     *
     * @throws RegistryException if there is neither
     */
    public RegistryPointer rollback() {
        return update(pointer().rolledBack());
    }

    private RegistryPointer update(RegistryPointer next) {
        try {
            writePointer(next);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot write " + new Path(root, POINTER_FILE) + ": " + e.getMessage(), e);
        }
        return next;
    }

    /** Writes the files, then the marker that makes the version visible; on failure, removes it. */
    private void upload(java.nio.file.Path from, Path dir) throws IOException {
        try {
            ObjectNode marker = new ObjectMapper().createObjectNode();
            ObjectNode files = marker.putObject("files");
            List<String> names = new java.util.ArrayList<>(FILES);
            for (String name : OPTIONAL_FILES) {
                if (Files.isRegularFile(from.resolve(name))) {
                    names.add(name);
                }
            }
            for (String name : names) {
                Digest digest;
                try (InputStream in = Files.newInputStream(from.resolve(name));
                        FSDataOutputStream out =
                                fs.create(new Path(dir, name), FileSystem.WriteMode.NO_OVERWRITE)) {
                    digest = copy(in, out);
                }
                files.putObject(name).put("bytes", digest.bytes).put("sha256", digest.sha256);
            }
            try (FSDataOutputStream out =
                    fs.create(new Path(dir, COMPLETE_MARKER), FileSystem.WriteMode.NO_OVERWRITE)) {
                out.write(
                        new ObjectMapper()
                                .writerWithDefaultPrettyPrinter()
                                .writeValueAsBytes(marker));
            }
        } catch (IOException | RuntimeException e) {
            try {
                fs.delete(dir, true);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** The files of a complete version with their sizes and digests, from its marker. */
    private Map<String, Digest> manifest(String version) {
        Path marker = new Path(versionDir(version), COMPLETE_MARKER);
        JsonNode files;
        try {
            files = new ObjectMapper().readTree(read(marker)).path("files");
        } catch (FileNotFoundException e) {
            throw new RegistryException(
                    "version " + version + " is not in " + uri + " (no " + marker + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + marker + ": " + e.getMessage(), e);
        }
        Map<String, Digest> out = new LinkedHashMap<>();
        for (String name : FILES) {
            JsonNode f = files.path(name);
            if (!f.path("bytes").isIntegralNumber() || !f.path("sha256").isTextual()) {
                throw new RegistryException(marker + ": no size and sha256 of " + name);
            }
            out.put(name, new Digest(f.path("bytes").longValue(), f.path("sha256").asText()));
        }
        for (String name : OPTIONAL_FILES) {
            JsonNode f = files.path(name);
            if (f.path("bytes").isIntegralNumber() && f.path("sha256").isTextual()) {
                out.put(name, new Digest(f.path("bytes").longValue(), f.path("sha256").asText()));
            }
        }
        return out;
    }

    /** Replaces {@code pointer.json} in one step, after checking that its versions are complete. */
    private void writePointer(RegistryPointer pointer) throws IOException {
        for (String version : pointer.served()) {
            if (!fs.exists(new Path(versionDir(checkName(version)), COMPLETE_MARKER))) {
                throw new RegistryException(
                        "version " + version + " is not in " + uri + ": publish it first");
            }
        }
        replace(new Path(root, POINTER_FILE), pointer.toJson());
    }

    /**
     * Writes {@code bytes} to {@code file} so that a reader finds the old content or the new,
     * whole: one object write on a distributed file system (object stores make it visible whole or
     * not at all), a temporary file renamed over the target locally.
     */
    private void replace(Path file, byte[] bytes) throws IOException {
        if (fs.isDistributedFS()) {
            try (FSDataOutputStream out = fs.create(file, FileSystem.WriteMode.OVERWRITE)) {
                out.write(bytes);
            }
            return;
        }
        // Not through Flink's LocalFileSystem.rename: it deletes the target before moving, so a
        // reader could find no file for a moment.
        java.nio.file.Path target = java.nio.file.Path.of(file.toUri());
        java.nio.file.Path temp =
                target.resolveSibling(
                        "." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.createDirectories(target.getParent());
        Files.write(temp, bytes);
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Replaces the live figures of {@code report}'s subtask: what {@code models status} shows.
     *
     * @throws UncheckedIOException if the storage cannot be written
     */
    public void writeLiveReport(LiveReport report) {
        Path file = new Path(new Path(root, LIVE_DIR), "subtask-" + report.subtask() + ".json");
        try {
            replace(file, report.toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Every subtask's last live report, fresh or stale ({@link LiveReport#isFresh}); a file that is
     * no report is skipped with a warning, as one broken file should not hide the others.
     */
    public List<LiveReport> liveReports() {
        Path dir = new Path(root, LIVE_DIR);
        List<LiveReport> reports = new ArrayList<>();
        try {
            if (!fs.exists(dir)) {
                return reports;
            }
            for (FileStatus status : fs.listStatus(dir)) {
                String name = status.getPath().getName();
                if (status.isDir() || !name.startsWith("subtask-") || !name.endsWith(".json")) {
                    continue;
                }
                try {
                    reports.add(
                            LiveReport.fromJson(
                                    read(status.getPath()), status.getPath().toString()));
                } catch (RegistryException | FileNotFoundException e) {
                    LOG.warn("Skipping live report {}: {}", status.getPath(), e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return reports;
    }

    private Path versionDir(String version) {
        return new Path(new Path(root, VERSIONS_DIR), version);
    }

    private byte[] read(Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return in.readAllBytes();
        }
    }

    private static String checkName(String version) {
        if (version == null || !VERSION_NAME.matcher(version).matches()) {
            throw new RegistryException(
                    "'"
                            + version
                            + "' is not a version name: 1-128 letters, digits, '.', '_' or '-',"
                            + " starting with a letter or digit");
        }
        return version;
    }

    /** A file's size and SHA-256, as the marker lists them. */
    private record Digest(long bytes, String sha256) {
        @Override
        public String toString() {
            return bytes + " bytes with sha256 " + sha256;
        }
    }

    private static Digest copy(InputStream in, OutputStream out) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
        byte[] buffer = new byte[64 * 1024];
        long bytes = 0;
        for (int n; (n = in.read(buffer)) > 0; ) {
            sha.update(buffer, 0, n);
            out.write(buffer, 0, n);
            bytes += n;
        }
        return new Digest(bytes, HexFormat.of().formatHex(sha.digest()));
    }
}
