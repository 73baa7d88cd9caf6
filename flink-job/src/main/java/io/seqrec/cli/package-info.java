/**
 * The {@code seqrec} command line and the jar's main class ({@link io.seqrec.cli.Main}): thin
 * commands ({@code run}, {@code demo}, {@code bench}, {@code broker}, {@code produce}, {@code
 * generate}, {@code tail}, and the actions of {@code models}), each declaring its positional
 * arguments and options once in a {@link io.seqrec.cli.Command}, from which {@link
 * io.seqrec.cli.Flags} parses and {@code --help} is generated. The work they start lives elsewhere:
 * the job in {@code launch}, the benchmark in {@code bench}, the model registry in {@code
 * registry}.
 *
 * <p>Dependencies: every other seqrec package ({@code config}, {@code event}, {@code generator},
 * {@code model}, {@code registry}, {@code pipeline}, {@code kafka}, {@code launch}, {@code bench},
 * and {@code broker} for the commands that start a local broker); Flink's environment ({@code
 * flink-streaming-java}, and {@code flink-core}'s file-system plugins for the registry) and {@code
 * kafka-clients} for tailing. No other package depends on this one; the tests do.
 */
package io.seqrec.cli;
