package io.seqrec.pipeline;

import io.seqrec.event.BehaviorEvent;
import io.seqrec.event.DeadLetter;
import io.seqrec.event.DeadLetterReason;
import io.seqrec.event.EventParser;
import io.seqrec.event.InvalidRecordException;
import io.seqrec.event.RawRecord;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Parses input records: valid events go on, every other record goes to {@link #DEAD_LETTERS} with
 * its reason. Counts {@code events_in} (every record) and dead letters by reason, so that events in
 * = accepted + dead-lettered can be checked from metrics.
 */
public class ParseEvents extends ProcessFunction<RawRecord, BehaviorEvent> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("invalid-input") {};

    private final EventParser parser;
    private final Pseudonyms pseudonyms;
    private final boolean emitPseudonyms;
    private transient Counter eventsIn;
    private transient Map<DeadLetterReason, Counter> deadLettered;

    public ParseEvents(EventParser parser) {
        this(parser, null, false);
    }

    /**
     * @param pseudonyms if not {@code null}, events are keyed by their user's pseudonym, and the
     *     user id goes on only to name the user in the output
     * @param emitPseudonyms name users in the output by their pseudonyms too: the user id does not
     *     leave this operator
     */
    public ParseEvents(EventParser parser, Pseudonyms pseudonyms, boolean emitPseudonyms) {
        this.parser = parser;
        this.pseudonyms = pseudonyms;
        this.emitPseudonyms = emitPseudonyms;
    }

    @Override
    public void open(OpenContext openContext) {
        MetricGroup group = getRuntimeContext().getMetricGroup();
        eventsIn = group.counter("events_in");
        deadLettered = new EnumMap<>(DeadLetterReason.class);
        for (DeadLetterReason r : DeadLetterReason.values()) {
            switch (r) {
                case LATE:
                case DUPLICATE_EVENT_ID:
                case INFERENCE_FAILED:
                    continue; // counted where they are decided
                default:
                    deadLettered.put(
                            r,
                            group.addGroup("reason", r.wireName()).counter("events_dead_lettered"));
            }
        }
    }

    @Override
    public void processElement(RawRecord record, Context ctx, Collector<BehaviorEvent> out) {
        eventsIn.inc();
        try {
            BehaviorEvent e = parser.parse(record);
            if (pseudonyms != null) {
                String pseudonym = pseudonyms.of(e.userId());
                e = e.pseudonymized(pseudonym, emitPseudonyms ? pseudonym : e.userId());
            }
            out.collect(e);
        } catch (InvalidRecordException e) {
            deadLettered.get(e.reason()).inc();
            ctx.output(DEAD_LETTERS, DeadLetter.of(record, e.reason(), e.getMessage()));
        }
    }
}
