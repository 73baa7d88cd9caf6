package io.seqrec.pipeline;

import io.seqrec.event.BehaviorEvent;
import io.seqrec.event.DeadLetter;
import io.seqrec.event.EventParser;
import io.seqrec.event.RawRecord;
import io.seqrec.event.Recommendation;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The recommender's dataflow, independent of where events come from and go to:
 *
 * <pre>
 * source ─▶ parse ─▶ keyBy(user) ─▶ recommend (state + batched inference) ─▶ recommendations
 *             │                              │
 *             └──────── dead letters ◀───────┘
 * </pre>
 *
 * {@code main} plugs in Kafka; tests plug in bounded sources and collecting sinks.
 */
public final class RecommenderJob {
    /**
     * The uid of the keyed operator that holds every user's state: savepoints map its state by this
     * name, so it never changes.
     */
    public static final String RECOMMEND_UID = "recommend";

    private final Source<RawRecord, ?, ?> source;
    private final Sink<Recommendation> recommendations;
    private final Sink<DeadLetter> deadLetters;
    private final EventParser parser;
    private final RecommendOptions options;
    private final Duration maxOutOfOrderness;
    private Pseudonyms pseudonyms;
    private boolean emitPseudonyms;

    public RecommenderJob(
            Source<RawRecord, ?, ?> source,
            Sink<Recommendation> recommendations,
            Sink<DeadLetter> deadLetters,
            EventParser parser,
            RecommendOptions options,
            Duration maxOutOfOrderness) {
        this.source = source;
        this.recommendations = recommendations;
        this.deadLetters = deadLetters;
        this.parser = parser;
        this.options = options;
        this.maxOutOfOrderness = maxOutOfOrderness;
    }

    /**
     * Keys users' state by their pseudonyms ({@code --pseudonymize-key-file}); the output names
     * users by their ids, or with {@code emitPseudonyms} by the pseudonyms.
     */
    public RecommenderJob pseudonymized(Pseudonyms pseudonyms, boolean emitPseudonyms) {
        this.pseudonyms = pseudonyms;
        this.emitPseudonyms = emitPseudonyms;
        return this;
    }

    /** Adds the dataflow to {@code env}. */
    public void build(StreamExecutionEnvironment env) {
        // Timestamps are the Kafka record times (per partition); each event then carries its own
        // ts. Lateness is judged per user against that user's newest event (UserState), which
        // keeps results identical however partitions interleave, in a replay as in the first run.
        WatermarkStrategy<RawRecord> watermarks =
                WatermarkStrategy.<RawRecord>forBoundedOutOfOrderness(maxOutOfOrderness)
                        .withTimestampAssigner((r, previous) -> r.timestamp())
                        .withIdleness(Duration.ofMinutes(1));
        DataStream<RawRecord> raw =
                env.fromSource(source, watermarks, "behavior-events").uid("source").name("source");

        SingleOutputStreamOperator<BehaviorEvent> events =
                raw.process(new ParseEvents(parser, pseudonyms, emitPseudonyms))
                        .uid("parse")
                        .name("parse");

        SingleOutputStreamOperator<Recommendation> recommended =
                events.keyBy(BehaviorEvent::stateKey)
                        .transform(
                                "recommend",
                                TypeInformation.of(Recommendation.class),
                                new RecommendOperator(options))
                        .uid(RECOMMEND_UID);

        recommended.sinkTo(recommendations).uid("recommendations-sink").name("recommendations");
        events.getSideOutput(ParseEvents.DEAD_LETTERS)
                .union(recommended.getSideOutput(RecommendOperator.DEAD_LETTERS))
                .sinkTo(deadLetters)
                .uid("dead-letter-sink")
                .name("dead-letters");
    }
}
