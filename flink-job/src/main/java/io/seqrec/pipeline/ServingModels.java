package io.seqrec.pipeline;

import io.seqrec.registry.RegistryPointer;
import java.util.ArrayList;
import java.util.List;

/**
 * What a subtask serves, swapped whole between two batches: the stable model and, optionally, a
 * canary for a fixed share of users ({@link RegistryPointer#bucket}: a user stays on one version
 * while the share stays or grows).
 *
 * @param pointer the registry pointer this set serves, or {@code null} for a single {@code --model}
 */
record ServingModels(RegistryPointer pointer, ServedModel stable, ServedModel canary) {

    static ServingModels single(ServedModel model) {
        return new ServingModels(null, model, null);
    }

    ServedModel forUser(String userId) {
        if (canary == null || RegistryPointer.bucket(userId) >= pointer.canaryPercent()) {
            return stable;
        }
        return canary;
    }

    List<ServedModel> models() {
        List<ServedModel> all = new ArrayList<>(2);
        all.add(stable);
        if (canary != null) {
            all.add(canary);
        }
        return all;
    }

    /** The model of that version if this set serves it, else {@code null}. */
    ServedModel byVersion(String version) {
        for (ServedModel m : models()) {
            if (nameOf(m).equals(version)) {
                return m;
            }
        }
        return null;
    }

    /**
     * The registry's name of a served model: the pointer's, which may differ from model_version.
     */
    String nameOf(ServedModel m) {
        if (pointer == null) {
            return m.version();
        }
        return m == stable ? pointer.stable() : pointer.canary();
    }

    long revision() {
        return pointer == null ? 0 : pointer.revision();
    }
}
