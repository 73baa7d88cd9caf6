package io.seqrec.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Validates a document against a CRD's OpenAPI v3 schema, the subset Kubernetes structural schemas
 * use: {@code type}, {@code properties}, {@code additionalProperties}, {@code items}, {@code
 * required}, {@code enum}, {@code anyOf}, {@code nullable}, {@code x-kubernetes-int-or-string} and
 * {@code x-kubernetes-preserve-unknown-fields}. Stricter than the API server in one respect, on
 * purpose: a field the schema does not declare is an error here, where the server would silently
 * prune it (a misspelt field would otherwise vanish unnoticed).
 */
final class OpenApiValidator {
    private static final List<String> KNOWN_KEYWORDS =
            List.of(
                    "type",
                    "properties",
                    "additionalProperties",
                    "items",
                    "required",
                    "enum",
                    "anyOf",
                    "nullable",
                    "description",
                    "format",
                    "default",
                    "x-kubernetes-int-or-string",
                    "x-kubernetes-preserve-unknown-fields");

    private final List<String> errors = new ArrayList<>();

    private OpenApiValidator() {}

    /** The errors, each with the JSON path where it was found; empty when the value is valid. */
    static List<String> validate(JsonNode schema, JsonNode value) {
        OpenApiValidator v = new OpenApiValidator();
        v.check(schema, value, "$");
        return v.errors;
    }

    private void check(JsonNode schema, JsonNode value, String path) {
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String keyword = it.next();
            if (!KNOWN_KEYWORDS.contains(keyword)) {
                // Fail loudly rather than skip a constraint this validator does not implement.
                throw new IllegalStateException(
                        "unsupported schema keyword " + keyword + " at " + path);
            }
        }
        if (value.isNull()) {
            if (!schema.path("nullable").asBoolean(false)) {
                errors.add(path + ": null is not allowed");
            }
            return;
        }
        if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
            if (!value.isIntegralNumber() && !value.isTextual()) {
                errors.add(path + ": expected an integer or a string, found " + value);
            }
            return;
        }
        if (schema.has("anyOf")) {
            boolean any = false;
            for (JsonNode alternative : schema.get("anyOf")) {
                if (validate(alternative, value).isEmpty()) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                errors.add(path + ": matches none of anyOf " + schema.get("anyOf"));
            }
        }
        String type = schema.path("type").asText("");
        switch (type) {
            case "object" -> checkObject(schema, value, path);
            case "array" -> {
                if (!value.isArray()) {
                    errors.add(path + ": expected an array, found " + value);
                    return;
                }
                for (int i = 0; i < value.size(); i++) {
                    check(schema.path("items"), value.get(i), path + "[" + i + "]");
                }
            }
            case "string" -> {
                if (!value.isTextual()) {
                    errors.add(
                            path
                                    + ": expected a string, found "
                                    + value.getNodeType()
                                    + " "
                                    + value);
                }
            }
            case "integer" -> {
                if (!value.isIntegralNumber()) {
                    errors.add(path + ": expected an integer, found " + value);
                }
            }
            case "number" -> {
                if (!value.isNumber()) {
                    errors.add(path + ": expected a number, found " + value);
                }
            }
            case "boolean" -> {
                if (!value.isBoolean()) {
                    errors.add(path + ": expected a boolean, found " + value);
                }
            }
            case "" -> {
                if (!schema.has("anyOf")
                        && !schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
                    throw new IllegalStateException("schema without type at " + path);
                }
            }
            default -> throw new IllegalStateException("unsupported type " + type + " at " + path);
        }
        if (schema.has("enum")) {
            boolean found = false;
            for (JsonNode allowed : schema.get("enum")) {
                found |= allowed.equals(value);
            }
            if (!found) {
                errors.add(path + ": " + value + " is not one of " + schema.get("enum"));
            }
        }
    }

    private void checkObject(JsonNode schema, JsonNode value, String path) {
        if (!value.isObject()) {
            errors.add(path + ": expected an object, found " + value);
            return;
        }
        for (JsonNode required : schema.path("required")) {
            if (!value.has(required.asText())) {
                errors.add(path + ": missing required field " + required.asText());
            }
        }
        JsonNode properties = schema.path("properties");
        JsonNode additional = schema.get("additionalProperties");
        boolean preserveUnknown =
                schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String child = path + "." + field.getKey();
            if (properties.has(field.getKey())) {
                check(properties.get(field.getKey()), field.getValue(), child);
            } else if (additional != null && additional.isObject()) {
                check(additional, field.getValue(), child);
            } else if (!preserveUnknown && !(additional != null && additional.asBoolean(false))) {
                errors.add(child + ": unknown field");
            }
        }
    }
}
