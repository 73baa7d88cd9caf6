package io.seqrec.launch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A temporary directory for one local run (broker logs, checkpoints, Flink's scratch files),
 * removed with everything in it on {@link #close()}.
 */
public final class WorkDir implements AutoCloseable {
    private final Path dir;

    private WorkDir(Path dir) {
        this.dir = dir;
    }

    public static WorkDir create(String prefix) throws IOException {
        return new WorkDir(Files.createTempDirectory(prefix));
    }

    public Path path() {
        return dir;
    }

    public Path resolve(String name) {
        return dir.resolve(name);
    }

    /**
     * Removes the directory and everything in it. A task that is still shutting down (RocksDB
     * closing its files after a cancel has been acknowledged) may remove or add files while this
     * walks the tree, so a file that vanished is not an error and the walk is retried a few times.
     */
    @Override
    public void close() {
        RuntimeException last = null;
        for (int attempt = 0; attempt < 5 && Files.exists(dir); attempt++) {
            try (Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                last = null;
            } catch (IOException e) {
                last = new UncheckedIOException(e);
            } catch (UncheckedIOException e) {
                last = e;
            }
            if (Files.exists(dir)) {
                pause();
            }
        }
        if (Files.exists(dir)) {
            System.err.println(
                    "could not remove "
                            + dir
                            + (last == null ? "" : ": " + last.getCause().getMessage()));
        }
    }

    private static void pause() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
