package io.seqrec.generator;

import java.util.SplittableRandom;

/** Malformed input records of many kinds, for exercising the dead-letter path. */
final class Malformed {
    private Malformed() {}

    private static final String[] TEMPLATES = {
        "{\"user_id\":\"u\",\"item_id\":\"item-00001\",\"ts\":%d",
        "not json at all",
        "[1,2,3]",
        "{\"item_id\":\"item-00001\",\"ts\":%d}",
        "{\"user_id\":\"u-bad\",\"ts\":%d}",
        "{\"user_id\":\"u-bad\",\"item_id\":\"item-00001\"}",
        "{\"user_id\":42,\"item_id\":\"item-00001\",\"ts\":%d}",
        "{\"user_id\":\"\",\"item_id\":\"item-00001\",\"ts\":%d}",
        "{\"user_id\":\"u-bad\",\"item_id\":\"item-00001\",\"ts\":\"yesterday\"}",
        "{\"user_id\":\"u-bad\",\"item_id\":\"item-00001\",\"ts\":-5}",
        "{\"user_id\":\"u-bad\",\"item_id\":\"item-00001\",\"event_type\":\"teleport\",\"ts\":%d}",
        "{\"user_id\":\"u\\u0007bad\",\"item_id\":\"item-00001\",\"ts\":%d}",
    };

    static GeneratedRecord record(SplittableRandom r, long ts, long n) {
        String template = TEMPLATES[r.nextInt(TEMPLATES.length)];
        return new GeneratedRecord(null, template.replace("%d", Long.toString(ts)), null);
    }
}
