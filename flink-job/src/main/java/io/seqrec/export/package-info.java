/**
 * Training data from the stream: {@link io.seqrec.export.EventExport} reads a time range of the
 * input topic and writes the events the job would accept, judged by the job's own parser ({@code
 * io.seqrec.event.EventParser}) and per-user rules ({@code io.seqrec.pipeline.UserState}), as JSON
 * lines that {@code seqrec_model train --format events} reads.
 *
 * <p>Dependencies: {@code io.seqrec.event}, {@code io.seqrec.pipeline} (the per-user rules) and
 * {@code kafka-clients}. Called by {@code io.seqrec.cli}.
 */
package io.seqrec.export;
