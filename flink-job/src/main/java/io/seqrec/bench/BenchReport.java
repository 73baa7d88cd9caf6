package io.seqrec.bench;

import java.util.List;
import java.util.Locale;

/** The phase table and the {@code SUMMARY} line of {@code seqrec bench}. */
final class BenchReport {
    private BenchReport() {}

    static void printPhases(List<Phase> phases, int repeat) {
        System.out.println();
        if (repeat > 1) {
            System.out.println("median of " + repeat + " runs of each phase:");
        }
        System.out.printf(
                "%-15s %10s %10s %12s %9s %9s %13s %13s%n",
                "phase",
                "offered/s",
                "received",
                "throughput/s",
                "p50 ms",
                "p99 ms",
                "CPU us/event",
                "job us/event");
        for (Phase p : phases) {
            System.out.printf(
                    Locale.ROOT,
                    "%-15s %10s %10d %12.1f %9.1f %9.1f %13.0f %13.0f%n",
                    p.name(),
                    p.offeredEps() == 0
                            ? "max"
                            : String.format(Locale.ROOT, "%.0f", p.offeredEps()),
                    p.received(),
                    p.throughputEps(),
                    p.p50Ms(),
                    p.p99Ms(),
                    p.cpuMicrosPerEvent(),
                    p.jobCpuMicrosPerEvent());
        }
    }

    /**
     * The last line of a full run, from the phases in their fixed order (batched-max, batched-50%,
     * unbatched-max, unbatched-50%, naive-max), the bare inference rate and its CPU per event.
     * {@code job_vs_bare} is the bare model step's CPU per event over the job's own in {@code
     * batched-max}: 1 when the job adds nothing to the model step.
     */
    static String summary(List<Phase> phases, double bareEps, double bareCpuMicrosPerEvent) {
        Phase max = phases.get(0);
        Phase at50 = phases.get(1);
        double unbatchedEps = phases.get(2).throughputEps();
        double naiveEps = phases.get(4).throughputEps();
        return String.format(
                Locale.ROOT,
                "SUMMARY throughput_eps=%.1f latency_p50_ms=%.1f latency_p99_ms=%.1f"
                        + " bare_inference_eps=%.1f pipeline_vs_bare=%.3f"
                        + " unbatched_eps=%.1f batched_vs_unbatched=%.3f naive_eps=%.1f"
                        + " speedup_vs_naive=%.3f job_cpu_us_per_event=%.1f"
                        + " bare_cpu_us_per_event=%.1f job_vs_bare=%.3f",
                max.throughputEps(),
                at50.p50Ms(),
                at50.p99Ms(),
                bareEps,
                max.throughputEps() / bareEps,
                unbatchedEps,
                max.throughputEps() / unbatchedEps,
                naiveEps,
                max.throughputEps() / naiveEps,
                max.jobCpuMicrosPerEvent(),
                bareCpuMicrosPerEvent,
                bareCpuMicrosPerEvent / max.jobCpuMicrosPerEvent());
    }

    /** The swap phase's figures, appended to the {@code SUMMARY} (or alone without baselines). */
    static String swapFields(PhaseRunner.Measured swap) {
        return String.format(
                Locale.ROOT,
                "swap_latency_p50_ms=%.1f swap_latency_p99_ms=%.1f swap_window_p50_ms=%.1f"
                        + " swap_window_p99_ms=%.1f",
                swap.phase().p50Ms(),
                swap.phase().p99Ms(),
                swap.afterActionP50Ms(),
                swap.afterActionP99Ms());
    }

    static String swapSummary(PhaseRunner.Measured swap) {
        return "SWAP " + swapFields(swap);
    }
}
