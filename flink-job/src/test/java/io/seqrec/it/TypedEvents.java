package io.seqrec.it;

import io.seqrec.event.EventType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Input for the type-aware test model ({@code TestPaths.typedModel()}, items "1".."40"): events of
 * every type, many of them repeats of the user's previous item (so steps get upgraded, or not), now
 * and then an item the model does not know (never a user's first, so every list is the model's). In
 * time order per user, one event id each.
 */
final class TypedEvents {
    static final int ITEMS = 40;

    private TypedEvents() {}

    /** {@code events} records {key, JSON value} of {@code users} users, from {@code startMs}. */
    static List<String[]> input(int users, int events, long seed, long startMs) {
        Random random = new Random(seed);
        EventType[] types = EventType.values();
        String[] lastItem = new String[users];
        List<String[]> input = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            int u = random.nextInt(users);
            String item;
            if (lastItem[u] != null && random.nextInt(100) < 35) {
                item = lastItem[u];
            } else if (lastItem[u] != null && random.nextInt(100) < 5) {
                item = "not-in-the-catalog-" + random.nextInt(10);
            } else {
                item = Integer.toString(1 + random.nextInt(ITEMS));
            }
            lastItem[u] = item;
            String user = "typed-user-" + u;
            String json =
                    "{\"user_id\":\""
                            + user
                            + "\",\"item_id\":\""
                            + item
                            + "\",\"event_type\":\""
                            + types[random.nextInt(types.length)].wireName()
                            + "\",\"ts\":"
                            + (startMs + 10L * i)
                            + ",\"event_id\":\"t"
                            + i
                            + "\"}";
            input.add(new String[] {user, json});
        }
        return input;
    }
}
