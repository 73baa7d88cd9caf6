package io.seqrec.cli;

import io.seqrec.config.ConfigException;
import io.seqrec.config.JobOptions;
import io.seqrec.kafka.KafkaUnavailableException;
import io.seqrec.model.ModelContractException;
import java.util.Arrays;

/**
 * The {@code seqrec} command line. Also the jar's main class, so {@code flink run seqrec-job.jar
 * run --bootstrap-servers ...} submits the job to a cluster.
 */
public final class Main {
    private Main() {}

    static final String USAGE =
            String.join(
                    "\n",
                    "usage: seqrec COMMAND [options]",
                    "",
                    "commands:",
                    "  demo      everything embedded: Kafka broker, Flink, shipped model, synthetic"
                            + " events",
                    "            [--events N] [--rate EPS] [--users U] [job options]",
                    "  bench     throughput and latency on this machine against the bare-inference"
                            + " ceiling,",
                    "            unbatched and naive pipelines: [--events N] [--source"
                            + " synthetic|FILE]",
                    "            [--format ml-1m|movielens-csv|pairs] [--users U] [--seed S] [job"
                            + " options]",
                    "            [--baselines true|false] [--padding bucketed|longest|full]"
                            + " [--warmup N]",
                    "            [--naive-model DIR (the model exported with --graph full)]"
                            + " [--repeat N (medians)]",
                    "            or a memory soak: --soak DURATION --rate EPS (resident memory"
                            + " every 30 s)",
                    "  run       the job against your Kafka: --bootstrap-servers HOST:PORT [job"
                            + " options]",
                    "  produce   write events to the input topic: --bootstrap-servers HOST:PORT",
                    "            --source synthetic|FILE [--format"
                            + " events-jsonl|ml-1m|movielens-csv|pairs]",
                    "            [--rate EPS] [--events N] [--users U] [--seed S]"
                            + " [--malformed-fraction F]",
                    "            [--topic T] [--kafka-properties FILE] [--every-user-once-first"
                            + " true]",
                    "  generate  synthetic events as JSON lines: --out FILE [--users U] [--events"
                            + " N] [--seed S]",
                    "            [--items N] [--categories N] [--malformed-fraction F]",
                    "  tail      print recommendations: --bootstrap-servers HOST:PORT [--topic T]",
                    "            [--from earliest|latest] [--max N] [--kafka-properties FILE]",
                    "  broker    a local single-node Kafka (KRaft) with the job's topics, until"
                            + " Ctrl-C",
                    "            [--partitions N] [--dir DIR] [--bootstrap-file FILE]",
                    "",
                    "job options (run, demo, bench):",
                    "");

    /**
     * Without {@code --model}, uses the shipped model: {@code model/artifacts/default} under the
     * working directory, else under the installation ({@code seqrec.home}, set by the launcher).
     */
    static void defaultModel(java.util.Map<String, String> raw) {
        if (raw.containsKey("model")) {
            return;
        }
        java.nio.file.Path local = java.nio.file.Path.of(JobOptions.MODEL.defaultValue());
        String home = System.getProperty("seqrec.home");
        if (!java.nio.file.Files.isDirectory(local) && home != null) {
            raw.put("model", java.nio.file.Path.of(home).resolve(local).toString());
        }
    }

    public static void main(String[] args) {
        int status = run(args);
        // A successful `run` returns normally: in application mode (Kubernetes operator, compose)
        // main runs inside the JobManager, and exiting the JVM there would take the cluster down.
        if (status != 0 || args.length == 0 || !args[0].equals("run")) {
            System.exit(status);
        }
    }

    /** Runs a command and returns the process exit status. */
    static int run(String[] args) {
        if (args.length == 0
                || args[0].equals("--help")
                || args[0].equals("-h")
                || args[0].equals("help")) {
            System.out.print(USAGE + JobOptions.helpText());
            return args.length == 0 ? 2 : 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (Arrays.asList(rest).contains("--help")) {
            System.out.print(USAGE + JobOptions.helpText());
            return 0;
        }
        try {
            switch (args[0]) {
                case "demo":
                    return new DemoCommand().run(rest);
                case "bench":
                    return new BenchCommand().run(rest);
                case "run":
                    return RunCommand.run(rest);
                case "produce":
                    return ProduceCommand.run(rest);
                case "generate":
                    return GenerateCommand.run(rest);
                case "tail":
                    return TailCommand.run(rest);
                case "broker":
                    return BrokerCommand.run(rest);
                default:
                    throw new UsageException("unknown command '" + args[0] + "'");
            }
        } catch (UsageException | ConfigException e) {
            System.err.println("seqrec " + args[0] + ": " + e.getMessage());
            System.err.println("run 'seqrec --help' for the options");
            return 2;
        } catch (ModelContractException e) {
            System.err.println("seqrec " + args[0] + ": model refused: " + e.getMessage());
            return 3;
        } catch (KafkaUnavailableException e) {
            System.err.println("seqrec " + args[0] + ": " + e.getMessage());
            return 4;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        } catch (Exception e) {
            System.err.println("seqrec " + args[0] + ": failed: " + e);
            e.printStackTrace(System.err);
            return 1;
        }
    }
}
