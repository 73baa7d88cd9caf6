package io.seqrec.cli;

import io.seqrec.config.ConfigException;
import io.seqrec.config.JobOptions;
import io.seqrec.kafka.KafkaUnavailableException;
import io.seqrec.model.ModelContractException;
import io.seqrec.registry.RegistryException;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code seqrec} command line. Also the jar's main class, so {@code flink run seqrec-job.jar
 * run --bootstrap-servers ...} submits the job to a cluster.
 */
public final class Main {
    private Main() {}

    /** Every command, in the order {@code --help} lists them. */
    static final List<Command> COMMANDS =
            List.of(
                    DemoCommand.COMMAND,
                    BenchCommand.COMMAND,
                    RunCommand.COMMAND,
                    ProduceCommand.COMMAND,
                    GenerateCommand.COMMAND,
                    ExportEventsCommand.COMMAND,
                    TrendingCommand.COMMAND,
                    TailCommand.COMMAND,
                    BrokerCommand.COMMAND,
                    ModelsCommand.PUBLISH,
                    ModelsCommand.FETCH,
                    ModelsCommand.CANARY,
                    ModelsCommand.PROMOTE,
                    ModelsCommand.ROLLBACK,
                    ModelsCommand.STATUS);

    /** {@code --help}: generated from the commands' option tables and the job's. */
    static final String USAGE = usage();

    private static String usage() {
        StringBuilder sb = new StringBuilder("usage: seqrec COMMAND [options]\n\ncommands:\n");
        for (Command c : COMMANDS) {
            sb.append(c.usage());
        }
        sb.append("\njob options (")
                .append(
                        String.join(
                                ", ",
                                COMMANDS.stream()
                                        .filter(Command::takesJobOptions)
                                        .map(Command::name)
                                        .toList()))
                .append("):\n")
                .append(JobOptions.helpText());
        return sb.toString();
    }

    /** The command whose name (one word, or two: {@code models publish}) starts {@code args}. */
    static Command command(String[] args) {
        for (Command c : COMMANDS) {
            List<String> words = c.words();
            if (args.length >= words.size()
                    && words.equals(Arrays.asList(args).subList(0, words.size()))) {
                return c;
            }
        }
        return null;
    }

    private static String unknownCommand(String[] args) {
        String group = args[0] + " ";
        List<String> actions =
                COMMANDS.stream()
                        .map(Command::name)
                        .filter(n -> n.startsWith(group))
                        .map(n -> n.substring(group.length()))
                        .toList();
        if (actions.isEmpty()) {
            return "unknown command '" + args[0] + "'";
        }
        return (args.length > 1 ? "unknown action '" + args[1] + "'" : "an action is needed")
                + " (one of "
                + String.join(", ", actions)
                + ")";
    }

    /**
     * Without {@code --model}, uses the shipped model: {@code model/artifacts/default} under the
     * working directory, else under the installation ({@code seqrec.home}, set by the launcher).
     */
    static void defaultModel(java.util.Map<String, String> raw) {
        if (raw.containsKey("model")) {
            return;
        }
        java.nio.file.Path local = java.nio.file.Path.of(JobOptions.MODEL.defaultValue());
        if (!java.nio.file.Files.isDirectory(local)) {
            raw.put("model", underHome(local).toString());
        }
    }

    /**
     * A path of the repository: as given where it exists (run from the repository root), else under
     * the launcher's {@code seqrec.home}.
     */
    static java.nio.file.Path underHome(java.nio.file.Path local) {
        String home = System.getProperty("seqrec.home");
        if (java.nio.file.Files.exists(local) || home == null) {
            return local;
        }
        return java.nio.file.Path.of(home).resolve(local);
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
            System.out.print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        if (Arrays.asList(args).contains("--help")) {
            System.out.print(USAGE);
            return 0;
        }
        try {
            Command command = command(args);
            if (command == null) {
                throw new UsageException(unknownCommand(args));
            }
            return command.run(Arrays.copyOfRange(args, command.words().size(), args.length));
        } catch (UsageException | ConfigException e) {
            System.err.println("seqrec " + args[0] + ": " + e.getMessage());
            System.err.println("run 'seqrec --help' for the options");
            return 2;
        } catch (RegistryException e) {
            System.err.println("seqrec " + args[0] + ": " + e.getMessage());
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
