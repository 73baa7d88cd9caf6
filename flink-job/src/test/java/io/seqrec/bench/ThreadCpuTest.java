package io.seqrec.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.seqrec.bench.ThreadCpu.JavaThread;
import io.seqrec.bench.ThreadCpu.Owner;
import io.seqrec.bench.ThreadCpu.Snapshot;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How {@code seqrec bench} tells the job's CPU from the broker's, the bench's and the JVM's. */
class ThreadCpuTest {
    private static final long MS = 1_000_000L;

    @Test
    void threadsAreOwnedByTheirFullJavaNames() {
        assertThat(ThreadCpu.ownerOfJavaThread("recommend -> recommendations: Writer (1/2)#0"))
                .isEqualTo(Owner.JOB);
        assertThat(ThreadCpu.ownerOfJavaThread("Source Data Fetcher for Source: source (2/2)#0"))
                .isEqualTo(Owner.JOB);
        assertThat(
                        ThreadCpu.ownerOfJavaThread(
                                "kafka-producer-network-thread | producer-bench-1-0"))
                .isEqualTo(Owner.JOB);
        assertThat(ThreadCpu.ownerOfJavaThread("kafka-producer-network-thread | bench-producer"))
                .isEqualTo(Owner.BENCH);
        assertThat(ThreadCpu.ownerOfJavaThread("bench-consumer")).isEqualTo(Owner.BENCH);
        assertThat(ThreadCpu.ownerOfJavaThread("data-plane-kafka-request-handler-3"))
                .isEqualTo(Owner.BROKER);
        assertThat(ThreadCpu.ownerOfJavaThread("something else")).isEqualTo(Owner.OTHER);
        assertThat(ThreadCpu.ownerOfNativeThread("GC Thread#1")).isEqualTo(Owner.JVM);
        assertThat(ThreadCpu.ownerOfNativeThread("C1 CompilerThre")).isEqualTo(Owner.JVM);
        assertThat(ThreadCpu.ownerOfNativeThread("rocksdb:low")).isEqualTo(Owner.JOB);
    }

    @Test
    void linuxShowsTheFirstFifteenCharactersAndTheLauncherThreadAsJava() {
        assertThat(ThreadCpu.nativeName("kafka-producer-network-thread | bench-producer"))
                .isEqualTo("kafka-producer-");
        assertThat(ThreadCpu.nativeName("bench-consumer")).isEqualTo("bench-consumer");
        assertThat(ThreadCpu.nativeName("main")).isEqualTo("java");
    }

    @Test
    void aSharedNativeNameIsSplitByTheJavaThreadsCpuAndTotalsStayTheKernels() {
        // Two producers share the native name "kafka-producer-": the sink's (job) and the bench's.
        Snapshot start =
                new Snapshot(
                        Map.of("kafka-producer-", 100 * MS, "GC Thread#0", 0L, "rocksdb:low", 0L),
                        Map.of(
                                1L,
                                        new JavaThread(
                                                "kafka-producer-network-thread | producer-x",
                                                50 * MS),
                                2L,
                                        new JavaThread(
                                                "kafka-producer-network-thread | bench-producer",
                                                50 * MS)),
                        1_000 * MS);
        Snapshot end =
                new Snapshot(
                        Map.of(
                                "kafka-producer-", 500 * MS,
                                "GC Thread#0", 80 * MS,
                                "rocksdb:low", 20 * MS),
                        Map.of(
                                1L,
                                        new JavaThread(
                                                "kafka-producer-network-thread | producer-x",
                                                350 * MS),
                                2L,
                                        new JavaThread(
                                                "kafka-producer-network-thread | bench-producer",
                                                150 * MS)),
                        // 50 ms more than the threads alive at the end account for: a thread ended.
                        1_550 * MS);

        ThreadCpu.Account account = ThreadCpu.between(start, end);

        // 400 ms of the kernel's count, split 300:100 as the JVM's counts were.
        assertThat(account.of(Owner.JOB)).isEqualTo(300 * MS + 20 * MS);
        assertThat(account.of(Owner.BENCH)).isEqualTo(100 * MS);
        assertThat(account.of(Owner.JVM)).isEqualTo(80 * MS);
        assertThat(account.of(Owner.EXITED)).isEqualTo(50 * MS);
        assertThat(account.of(Owner.OTHER)).isZero();
        assertThat(account.total()).isEqualTo(550 * MS);
        // The job's share of the JVM's threads follows its share of the owned CPU: 320 of 420.
        assertThat(account.jobWithShareOfJvm())
                .isEqualTo(320 * MS + Math.round(80 * MS * 320.0 / 420));
    }

    @Test
    void aSnapshotOfThisProcessSeesTheCallingThreadSpendCpu() {
        Snapshot start = ThreadCpu.take();
        long x = 0;
        for (long deadline = System.nanoTime() + 200 * MS; System.nanoTime() < deadline; ) {
            x += System.nanoTime() % 7;
        }
        Snapshot end = ThreadCpu.take();

        ThreadCpu.Account account = ThreadCpu.between(start, end);

        assertThat(x).isPositive();
        assertThat(account.total()).isGreaterThan(0);
        assertThat(end.nativeByName()).isNotEmpty();
        assertThat(end.javaById().values())
                .anyMatch(t -> t.name().equals(Thread.currentThread().getName()));
    }
}
