package io.seqrec.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The CPU time of this process by who spent it: the job, the in-process broker, the bench's own
 * producer and consumer, and the JVM's own threads (GC, JIT compilers, VM operations).
 *
 * <p>{@code seqrec bench} runs all of them in one JVM, so its process CPU per event overstates what
 * a deployed job pays, whose broker and producers run elsewhere. Linux counts every thread's CPU in
 * {@code /proc/self/task/<tid>/stat}, native threads included (RocksDB's flush and compaction
 * threads, the JVM's GC and compilers), but names threads only by their first 15 characters, which
 * cannot tell the job's Kafka producers from the bench's. The JVM knows each Java thread's full
 * name and CPU time but not its native id. So totals come from {@code /proc}, grouped by the
 * 15-character name, and each group's CPU is divided among owners in proportion to the CPU the JVM
 * reports for its Java threads of that name; groups without Java threads are owned by their native
 * name.
 */
final class ThreadCpu {
    /** Who spent the CPU. */
    enum Owner {
        JOB,
        BROKER,
        BENCH,
        /** Garbage collection, JIT compilation, VM operations: shared by everything in the JVM. */
        JVM,
        /** Threads of none of the above. */
        OTHER,
        /** Threads that ended between the two snapshots: the kernel's count left with them. */
        EXITED
    }

    /** Linux reports thread CPU in clock ticks of USER_HZ, which is 100 on every architecture. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    /** The native name Linux gives a thread: at most 15 characters of its Java name. */
    private static final int NATIVE_NAME_LENGTH = 15;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    // Flink's task threads are named "<operator chain> (<subtask>/<parallelism>)#<attempt>"; its
    // other threads by what they serve.
    private static final Pattern FLINK_TASK = Pattern.compile(".* \\(\\d+/\\d+\\)#\\d+$");
    private static final Pattern JOB_THREADS =
            Pattern.compile(
                    "^(Source Data Fetcher|OutputFlusher|Flink|flink-|pekko|Checkpoint|"
                            + "AsyncOperations|jobmanager|taskmanager|mini-cluster|"
                            + "Legacy Source|Channel state|rocksdb|ForkJoinPool|"
                            + "IOManager|FileCache|BLOB|Timer for|"
                            + "kafka-producer-network-thread \\| producer-|"
                            + "kafka-coordinator-heartbeat-thread \\| bench-).*");
    private static final Pattern BENCH_THREADS =
            Pattern.compile(
                    "^(main|bench-.*|kafka-producer-network-thread \\| "
                            + PhaseRunner.BENCH_PRODUCER_ID
                            + ")$");
    private static final Pattern BROKER_THREADS =
            Pattern.compile(
                    "^(data-plane-kafka|kafka-|broker-|controller-|raft|quorum|ExpirationReaper|"
                            + "LogDirFailureHandler|group-coordinator|share-|transaction|"
                            + "TxnMarkerSenderThread|ReplicaFetcher|metrics-meter|"
                            + "BrokerLifecycleManager|executor-|feature-|"
                            + "node-\\d|KafkaClusterTestKit|event-process|"
                            + "MetadataLoader|SnapshotGenerator|ClientQuotaManager|"
                            + "ThrottledChannelReaper|persister|"
                            + "AddPartitionsToTxnSenderThread|"
                            + "ControllerMutationQuota|LogCleaner|"
                            + "kafka-log-cleaner|scheduler).*");
    private static final Pattern JVM_NATIVE =
            Pattern.compile(
                    "^(GC Thread|G1 |VM Thread|VM Periodic|C1 Compiler|C2 Compiler|"
                            + "Sweeper|Monitor Deflat|Service Thread|Notification).*");

    /** CPU nanoseconds by native thread name and by Java thread, at one instant. */
    record Snapshot(
            Map<String, Long> nativeByName, Map<Long, JavaThread> javaById, long processNanos) {}

    record JavaThread(String name, long cpuNanos) {}

    /** CPU nanoseconds by owner between two snapshots. */
    record Account(Map<Owner, Long> nanos) {
        long of(Owner owner) {
            return nanos.getOrDefault(owner, 0L);
        }

        long total() {
            return nanos.values().stream().mapToLong(Long::longValue).sum();
        }

        /**
         * The job's CPU with its share of the JVM's own threads: GC and JIT serve whoever allocates
         * and runs code, taken here in proportion to the CPU of the job's threads among all owned
         * threads (an approximation: the job allocates more per CPU second than the broker does).
         */
        long jobWithShareOfJvm() {
            long owned = of(Owner.JOB) + of(Owner.BROKER) + of(Owner.BENCH);
            double share = owned == 0 ? 0 : (double) of(Owner.JOB) / owned;
            return of(Owner.JOB) + Math.round(share * of(Owner.JVM));
        }
    }

    private ThreadCpu() {}

    static Snapshot take() {
        Map<String, Long> nativeByName = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            tasks.forEach(
                    task -> {
                        String stat;
                        try {
                            stat = Files.readString(task.resolve("stat"));
                        } catch (IOException e) {
                            return; // the thread ended while being read
                        }
                        // comm may hold spaces and parentheses: it runs from the first '(' to
                        // the last ')'; utime and stime are the 12th and 13th fields after it.
                        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                        nativeByName.merge(name, ticks * NANOS_PER_TICK, Long::sum);
                    });
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/task (Linux only)", e);
        }
        Map<Long, JavaThread> javaById = new HashMap<>();
        for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long cpu = THREADS.getThreadCpuTime(info.getThreadId());
            if (cpu >= 0) {
                javaById.put(info.getThreadId(), new JavaThread(info.getThreadName(), cpu));
            }
        }
        return new Snapshot(nativeByName, javaById, PhaseRunner.processCpuNanos());
    }

    static Account between(Snapshot start, Snapshot end) {
        // Java CPU in the interval by native name and owner.
        Map<String, Map<Owner, Long>> javaByName = new HashMap<>();
        end.javaById()
                .forEach(
                        (id, t) -> {
                            JavaThread before = start.javaById().get(id);
                            long cpu = t.cpuNanos() - (before == null ? 0 : before.cpuNanos());
                            javaByName
                                    .computeIfAbsent(nativeName(t.name()), k -> new HashMap<>())
                                    .merge(ownerOfJavaThread(t.name()), cpu, Long::sum);
                        });
        Map<Owner, Long> nanos = new EnumMap<>(Owner.class);
        long counted = 0;
        for (Map.Entry<String, Long> e : end.nativeByName().entrySet()) {
            long cpu = e.getValue() - start.nativeByName().getOrDefault(e.getKey(), 0L);
            if (cpu <= 0) {
                continue;
            }
            counted += cpu;
            Map<Owner, Long> java = javaByName.get(e.getKey());
            long javaTotal =
                    java == null ? 0 : java.values().stream().mapToLong(Long::longValue).sum();
            if (javaTotal <= 0) {
                nanos.merge(ownerOfNativeThread(e.getKey()), cpu, Long::sum);
                continue;
            }
            for (Map.Entry<Owner, Long> o : java.entrySet()) {
                nanos.merge(
                        o.getKey(), Math.round((double) cpu * o.getValue() / javaTotal), Long::sum);
            }
        }
        // Threads that ended between the snapshots took their /proc entries with them.
        long exited = (end.processNanos() - start.processNanos()) - counted;
        if (exited > 0) {
            nanos.merge(Owner.EXITED, exited, Long::sum);
        }
        return new Account(nanos);
    }

    /**
     * The thread groups (by native name) of an owner between two snapshots with their CPU
     * nanoseconds, largest first: what a reader checks when {@link Owner#OTHER} is not small.
     */
    static Map<String, Long> groupsOf(Owner owner, Snapshot start, Snapshot end) {
        Map<String, Long> groups = new java.util.TreeMap<>();
        end.nativeByName()
                .forEach(
                        (name, cpu) -> {
                            long spent = cpu - start.nativeByName().getOrDefault(name, 0L);
                            boolean owned =
                                    end.javaById().values().stream()
                                            .filter(t -> nativeName(t.name()).equals(name))
                                            .anyMatch(t -> ownerOfJavaThread(t.name()) == owner);
                            boolean nativeOnly =
                                    end.javaById().values().stream()
                                            .noneMatch(t -> nativeName(t.name()).equals(name));
                            if (spent > 0
                                    && (owned
                                            || nativeOnly && ownerOfNativeThread(name) == owner)) {
                                groups.put(name, spent);
                            }
                        });
        return groups;
    }

    /** The owner of a Java thread, by its full name. */
    static Owner ownerOfJavaThread(String name) {
        if (BENCH_THREADS.matcher(name).matches()) {
            return Owner.BENCH;
        }
        if (FLINK_TASK.matcher(name).matches() || JOB_THREADS.matcher(name).matches()) {
            return Owner.JOB;
        }
        if (BROKER_THREADS.matcher(name).matches()) {
            return Owner.BROKER;
        }
        return Owner.OTHER;
    }

    /** The owner of a thread the JVM does not list: the JVM's own, or a native library's. */
    static Owner ownerOfNativeThread(String nativeName) {
        if (JVM_NATIVE.matcher(nativeName).matches()) {
            return Owner.JVM;
        }
        // RocksDB's background flush and compaction threads serve the job's state.
        if (nativeName.startsWith("rocksdb:")) {
            return Owner.JOB;
        }
        return Owner.OTHER;
    }

    /**
     * The name Linux shows for a Java thread: its first 15 characters, except the launcher's main
     * thread, which keeps the executable's name.
     */
    static String nativeName(String javaName) {
        if (javaName.equals("main")) {
            return "java";
        }
        return javaName.length() <= NATIVE_NAME_LENGTH
                ? javaName
                : javaName.substring(0, NATIVE_NAME_LENGTH);
    }
}
