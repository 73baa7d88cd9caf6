package io.seqrec.pipeline;

import io.seqrec.evaluation.LiveTotals;
import io.seqrec.model.ModelArtifact;
import io.seqrec.registry.LiveReport;
import io.seqrec.registry.ModelRegistry;
import io.seqrec.registry.RegistryPointer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.metrics.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the model registry for one subtask, on a thread of its own: when the pointer's revision
 * changes, it fetches, loads and verifies the versions the new pointer serves (reusing those
 * already loaded) and hands the new {@link ServingModels} over; the task thread takes it between
 * two batches ({@link #take}), so it never waits for a load. A revision whose models fail to load
 * or verify is refused with one log line and a count, and not tried again; the subtask keeps
 * serving what it has.
 *
 * <p>Only one hand-over is outstanding at a time, and each new set is built from the last one
 * handed over: a model this thread reuses is one the task thread serves or is about to serve, so it
 * never reuses a model the task thread has closed.
 *
 * <p>At each poll it also writes the subtask's live figures, as the task thread last offered them
 * ({@link #offerLive}), to the registry: {@code models status} reads them there.
 */
final class ModelPoller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelPoller.class);

    /** Loads and checks one artifact's model, ready to serve. */
    @FunctionalInterface
    interface Loader {
        ServedModel load(ModelArtifact artifact);
    }

    private final ModelRegistry registry;
    private final Path localDir;
    private final Loader loader;
    private final Counter loadFailures;
    private final AtomicReference<ServingModels> ready = new AtomicReference<>();
    private final AtomicReference<List<Map<String, LiveTotals>>> live = new AtomicReference<>();
    private final int subtask;
    private final int parallelism;
    private final long startedMs = System.currentTimeMillis();
    private long intervalMs;
    private String lastReportError;
    private final ScheduledExecutorService executor;

    /** The last set handed over (or the initial one): what new sets are built from. */
    private ServingModels basis;

    private long refusedRevision = -1;
    private String lastRegistryError;

    ModelPoller(
            ModelRegistry registry,
            Path localDir,
            Loader loader,
            Counter loadFailures,
            int subtask,
            int parallelism) {
        this.registry = registry;
        this.subtask = subtask;
        this.parallelism = parallelism;
        this.localDir = localDir;
        this.loader = loader;
        this.loadFailures = loadFailures;
        this.executor =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "seqrec-model-poller");
                            t.setDaemon(true);
                            return t;
                        });
    }

    /** Loads what {@code pointer} serves, synchronously: for the subtask's start. */
    ServingModels loadInitial(RegistryPointer pointer) {
        basis = load(pointer, null);
        return basis;
    }

    /** Polls every {@code interval} from now on. */
    void start(Duration interval) {
        intervalMs = interval.toMillis();
        executor.scheduleWithFixedDelay(
                this::poll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * For the task thread, between batches: the set to serve from now on, if there is a new one.
     */
    ServingModels take() {
        return ready.getAndSet(null);
    }

    /**
     * For the task thread: its live figures and the baseline's by registry version, to be written
     * at the next poll. The maps must not change afterwards.
     */
    void offerLive(Map<String, LiveTotals> totals, Map<String, LiveTotals> baselines) {
        live.set(List.of(totals, baselines));
    }

    private void poll() {
        writeLive();
        if (ready.get() != null) {
            return; // the task thread has not taken the last set yet
        }
        RegistryPointer pointer;
        try {
            pointer = registry.pointer();
            lastRegistryError = null;
        } catch (RuntimeException e) {
            // Said once per distinct problem, not every poll: an unreachable registry is one fact.
            if (!String.valueOf(e.getMessage()).equals(lastRegistryError)) {
                lastRegistryError = String.valueOf(e.getMessage());
                LOG.warn(
                        "Cannot read the model registry ({}); still serving revision {}",
                        e.getMessage(),
                        basis.revision());
            }
            return;
        }
        if (pointer.revision() == basis.revision() || pointer.revision() == refusedRevision) {
            return;
        }
        try {
            ServingModels next = load(pointer, basis);
            basis = next;
            ready.set(next);
            LOG.info(
                    "Model registry revision {}: stable {}{}, switching at the next batch",
                    pointer.revision(),
                    pointer.stable(),
                    pointer.hasCanary()
                            ? ", canary "
                                    + pointer.canary()
                                    + " for "
                                    + pointer.canaryPercent()
                                    + " %"
                            : "");
        } catch (RuntimeException e) {
            refusedRevision = pointer.revision();
            loadFailures.inc();
            LOG.warn(
                    "Model registry revision {} refused, still serving revision {}: {}",
                    pointer.revision(),
                    basis.revision(),
                    e.toString());
        }
    }

    private void writeLive() {
        List<Map<String, LiveTotals>> offered = live.getAndSet(null);
        if (offered == null) {
            return;
        }
        try {
            registry.writeLiveReport(
                    new LiveReport(
                            subtask,
                            parallelism,
                            startedMs,
                            System.currentTimeMillis(),
                            intervalMs,
                            offered.get(0),
                            offered.get(1)));
            lastReportError = null;
        } catch (RuntimeException e) {
            // Figures for an operator's eyes: serving goes on without them. Said once per problem.
            if (!String.valueOf(e.getMessage()).equals(lastReportError)) {
                lastReportError = String.valueOf(e.getMessage());
                LOG.warn("Cannot write live figures to the model registry: {}", e.getMessage());
            }
        }
    }

    /** The set {@code pointer} serves; models {@code reuse} already has are not loaded again. */
    private ServingModels load(RegistryPointer pointer, ServingModels reuse) {
        List<ServedModel> loaded = new ArrayList<>();
        try {
            ServedModel stable = model(pointer.stable(), pointer, reuse, loaded);
            ServedModel canary =
                    pointer.hasCanary() ? model(pointer.canary(), pointer, reuse, loaded) : null;
            return new ServingModels(pointer, stable, canary);
        } catch (RuntimeException e) {
            loaded.forEach(ServedModel::close);
            throw e;
        }
    }

    private ServedModel model(
            String version,
            RegistryPointer pointer,
            ServingModels reuse,
            List<ServedModel> loaded) {
        ServedModel existing = reuse == null ? null : reuse.byVersion(version);
        if (existing != null) {
            return existing;
        }
        ModelArtifact artifact =
                registry.fetch(version, localDir.resolve(version + "-r" + pointer.revision()));
        ServedModel model = loader.load(artifact);
        loaded.add(model);
        return model;
    }

    /**
     * Stops polling, writes the live figures offered last, and closes the models of a set that was
     * handed over but never taken, except those {@code serving} still uses (the caller closes
     * those).
     */
    void close(ServingModels serving) throws InterruptedException {
        executor.shutdownNow();
        executor.awaitTermination(30, TimeUnit.SECONDS);
        // The figures offered since the last poll, so that a stopped job's last report is complete.
        writeLive();
        ServingModels untaken = ready.getAndSet(null);
        if (untaken != null) {
            for (ServedModel m : untaken.models()) {
                if (serving == null || !serving.models().contains(m)) {
                    m.close();
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        close(null);
    }
}
