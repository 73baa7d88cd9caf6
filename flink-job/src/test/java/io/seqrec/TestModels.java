package io.seqrec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** Model artifacts made for a test from the shipped default model. */
public final class TestModels {
    private TestModels() {}

    /**
     * The default model's graph with another vocabulary: its {@code items.txt} lines passed through
     * {@code edit}, which must keep their number (the graph's output width) and uniqueness, so the
     * artifact meets the contract. Scores mean nothing for the renamed items; what a test gets is a
     * model that indexes items differently, as a retrained model would.
     */
    public static Path withItems(Path dir, UnaryOperator<List<String>> edit) throws IOException {
        TestPaths.copyOfDefaultModel(dir);
        Path items = dir.resolve("items.txt");
        Files.write(items, edit.apply(new ArrayList<>(Files.readAllLines(items))));
        return dir;
    }
}
