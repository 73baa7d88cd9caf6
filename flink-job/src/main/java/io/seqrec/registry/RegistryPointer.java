package io.seqrec.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * Which model versions serve which users: the registry's {@code pointer.json}, immutable.
 *
 * <pre>{@code
 * {"format_version": 1, "revision": 4, "stable": "v2",
 *  "canary": {"version": "v3", "percent": 10}, "previous_stable": "v1"}
 * }</pre>
 *
 * {@code canary} and {@code previous_stable} are {@code null} when there is none.
 *
 * @param revision 1 for the first pointer, one more with every change: a poller that compares it
 *     with the revision it serves knows whether anything changed without comparing versions
 * @param stable the version every user outside the canary gets
 * @param canary the version on trial, or {@code null}
 * @param canaryPercent the share of users, 1..100, that gets the canary; 0 without one
 * @param previousStable the stable version before the last promotion, which {@code rollback}
 *     returns to; {@code null} if there is none
 */
public record RegistryPointer(
        long revision, String stable, String canary, int canaryPercent, String previousStable) {

    static final int FORMAT_VERSION = 1;

    public RegistryPointer {
        if (revision < 1) {
            throw new IllegalArgumentException("revision must be at least 1, got " + revision);
        }
        Objects.requireNonNull(stable, "stable");
        if (canary == null ? canaryPercent != 0 : canaryPercent < 1 || canaryPercent > 100) {
            throw new IllegalArgumentException(
                    canary == null
                            ? "a canary percent without a canary version"
                            : "canary percent must be 1..100, got " + canaryPercent);
        }
        if (stable.equals(canary)) {
            throw new IllegalArgumentException(stable + " cannot be stable and canary at once");
        }
    }

    /** The pointer of a registry's first version. */
    static RegistryPointer first(String version) {
        return new RegistryPointer(1, version, null, 0, null);
    }

    public boolean hasCanary() {
        return canary != null;
    }

    /** The versions a job serves under this pointer: the stable one, then the canary if any. */
    public List<String> served() {
        return canary == null ? List.of(stable) : List.of(stable, canary);
    }

    /**
     * The version that serves {@code userId}: the canary if the user's {@link #bucket} is below the
     * canary's percent, the stable version otherwise. A user keeps their version while the canary's
     * share grows.
     */
    public String versionFor(String userId) {
        return bucket(userId) < canaryPercent ? canary : stable;
    }

    /**
     * A user's traffic bucket, 0..99, the same in every JVM: CRC-32 of the id's UTF-8 bytes. Not
     * the {@code hashCode} that Flink's key groups are made of, so the canary's users spread over
     * every subtask instead of gathering on a few.
     */
    public static int bucket(String userId) {
        CRC32 crc = new CRC32();
        crc.update(userId.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % 100);
    }

    /** {@code version} as the canary for {@code percent} of users, replacing any canary. */
    RegistryPointer withCanary(String version, int percent) {
        return new RegistryPointer(revision + 1, stable, version, percent, previousStable);
    }

    /** The canary as the stable version for everyone; the stable one becomes the previous. */
    RegistryPointer promoted() {
        if (canary == null) {
            throw new RegistryException("there is no canary to promote (stable is " + stable + ")");
        }
        return new RegistryPointer(revision + 1, canary, null, 0, stable);
    }

    /** Without the canary if there is one, else back on the previous stable version. */
    RegistryPointer rolledBack() {
        if (canary != null) {
            return new RegistryPointer(revision + 1, stable, null, 0, previousStable);
        }
        if (previousStable == null) {
            throw new RegistryException(
                    "nothing to roll back: no canary, and no stable version before " + stable);
        }
        return new RegistryPointer(revision + 1, previousStable, null, 0, null);
    }

    public byte[] toJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode node = json.createObjectNode();
        node.put("format_version", FORMAT_VERSION);
        node.put("revision", revision);
        node.put("stable", stable);
        if (canary == null) {
            node.putNull("canary");
        } else {
            node.putObject("canary").put("version", canary).put("percent", canaryPercent);
        }
        node.put("previous_stable", previousStable);
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a JSON tree to memory", e);
        }
    }

    /**
     * Reads {@code pointer.json}.
     *
     * @throws RegistryException naming {@code where} if it is not a pointer document
     */
    public static RegistryPointer fromJson(byte[] bytes, String where) {
        try {
            JsonNode node = new ObjectMapper().readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("not a JSON object");
            }
            if (node.path("format_version").asInt(-1) != FORMAT_VERSION) {
                throw new IllegalArgumentException(
                        "format_version " + node.get("format_version") + " is not 1");
            }
            JsonNode canary = node.path("canary");
            boolean noCanary = canary.isNull() || canary.isMissingNode();
            if (!noCanary && !canary.isObject()) {
                throw new IllegalArgumentException("canary must be an object or null");
            }
            return new RegistryPointer(
                    integral(node, "revision"),
                    text(node, "stable", false),
                    noCanary ? null : text(canary, "version", false),
                    noCanary ? 0 : Math.toIntExact(integral(canary, "percent")),
                    text(node, "previous_stable", true));
        } catch (IOException | IllegalArgumentException | ArithmeticException e) {
            throw new RegistryException(where + ": not a valid pointer: " + e.getMessage(), e);
        }
    }

    private static long integral(JsonNode node, String field) {
        JsonNode v = node.path(field);
        if (!v.isIntegralNumber()) {
            throw new IllegalArgumentException(field + " missing or not a whole number");
        }
        return v.longValue();
    }

    private static String text(JsonNode node, String field, boolean nullable) {
        JsonNode v = node.path(field);
        if (nullable && (v.isNull() || v.isMissingNode())) {
            return null;
        }
        if (!v.isTextual() || v.asText().isEmpty()) {
            throw new IllegalArgumentException(field + " missing or not a version name");
        }
        return v.asText();
    }
}
