package io.seqrec.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binds a manifest to its API type (fabric8 Kubernetes model, Strimzi api) and reports every field
 * the type does not declare. Those model classes keep unknown fields in an {@code
 * additionalProperties} map instead of failing (the API server would prune or reject them), so
 * binding alone proves little: the object graph is walked and every non-empty {@code
 * additionalProperties} is an error, with its path.
 */
final class StrictTypes {
    private static final ObjectMapper MAPPER =
            new ObjectMapper()
                    .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private StrictTypes() {}

    /** The bound object; throws AssertionError listing unknown fields or binding errors. */
    static <T> T bind(JsonNode doc, Class<T> type, String where) {
        T value;
        try {
            value = MAPPER.treeToValue(doc, type);
        } catch (Exception e) {
            throw new AssertionError(
                    where + ": does not bind to " + type.getName() + ": " + e.getMessage(), e);
        }
        List<String> unknown = new ArrayList<>();
        walk(value, "$", unknown, new IdentityHashMap<>());
        if (!unknown.isEmpty()) {
            throw new AssertionError(
                    where + ": fields unknown to " + type.getName() + ": " + unknown);
        }
        return value;
    }

    private static void walk(
            Object o, String path, List<String> unknown, Map<Object, Boolean> seen) {
        if (o == null || seen.put(o, Boolean.TRUE) != null) {
            return;
        }
        Class<?> c = o.getClass();
        if (c.isPrimitive()
                || c.isEnum()
                || o instanceof String
                || o instanceof Number
                || o instanceof Boolean) {
            return;
        }
        if (o instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                walk(item, path + "[" + i++ + "]", unknown, seen);
            }
            return;
        }
        if (o instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getValue(), path + "." + e.getKey(), unknown, seen);
            }
            return;
        }
        if (!c.getName().startsWith("io.fabric8.") && !c.getName().startsWith("io.strimzi.")) {
            return;
        }
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                f.setAccessible(true);
                Object v;
                try {
                    v = f.get(o);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
                if (f.getName().equals("additionalProperties") && v instanceof Map<?, ?> extra) {
                    for (Object key : extra.keySet()) {
                        unknown.add(path + "." + key);
                    }
                } else {
                    walk(v, path + "." + f.getName(), unknown, seen);
                }
            }
        }
    }
}
