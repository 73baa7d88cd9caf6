package io.seqrec.bench;

import java.util.Arrays;
import java.util.List;

/**
 * What one phase of {@code seqrec bench} measured. {@code cpuMicrosPerEvent} is the whole process's
 * (job, broker, the bench's producer and consumer); {@code jobCpuMicrosPerEvent} the job's threads
 * alone with their share of GC and JIT ({@link ThreadCpu}).
 */
public record Phase(
        String name,
        double offeredEps,
        long received,
        double throughputEps,
        double p50Ms,
        double p99Ms,
        double cpuMicrosPerEvent,
        double jobCpuMicrosPerEvent) {

    /** Each figure's median over {@code runs} of one phase, and their smallest received count. */
    static Phase median(List<Phase> runs) {
        Phase first = runs.get(0);
        return new Phase(
                first.name(),
                first.offeredEps(),
                runs.stream().mapToLong(Phase::received).min().orElse(0),
                median(runs.stream().mapToDouble(Phase::throughputEps).toArray()),
                median(runs.stream().mapToDouble(Phase::p50Ms).toArray()),
                median(runs.stream().mapToDouble(Phase::p99Ms).toArray()),
                median(runs.stream().mapToDouble(Phase::cpuMicrosPerEvent).toArray()),
                median(runs.stream().mapToDouble(Phase::jobCpuMicrosPerEvent).toArray()));
    }

    /** The median; for an even count the mean of the two middle values. */
    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
