/**
 * The job's configuration: every option in one table ({@link io.seqrec.config.JobOptions}), from
 * which the CLI parses flags, {@code --help} is printed and the README's configuration table is
 * checked, and the validated, immutable {@link io.seqrec.config.JobConfig} built from them once.
 *
 * <p>Dependencies: the JDK only; no other seqrec package, no library. Every other seqrec package
 * that needs settings reads them from here.
 */
package io.seqrec.config;
