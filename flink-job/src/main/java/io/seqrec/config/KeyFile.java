package io.seqrec.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A secret key kept in a file ({@code --pseudonymize-key-file}): the file's bytes are the key. Read
 * where it is used, checked up front; no message ever holds the key.
 */
public final class KeyFile {
    /**
     * The shortest key accepted: 256 bits, the size of an HMAC-SHA256 (RFC 2104 advises no less).
     */
    public static final int MIN_KEY_BYTES = 32;

    private KeyFile() {}

    /**
     * The key in {@code file}.
     *
     * @throws ConfigException if the file is missing, unreadable or shorter than {@link
     *     #MIN_KEY_BYTES}, saying which (never what it holds)
     */
    public static byte[] read(Path file) {
        String where = "--pseudonymize-key-file '" + file + "'";
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(where + ": no such file");
        }
        byte[] key;
        try {
            key = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException(
                    where + ": unreadable (" + e.getClass().getSimpleName() + ")");
        }
        if (key.length < MIN_KEY_BYTES) {
            throw new ConfigException(
                    where
                            + ": the key is "
                            + key.length
                            + " bytes, at least "
                            + MIN_KEY_BYTES
                            + " are needed (e.g. head -c 32 /dev/urandom > FILE)");
        }
        return key;
    }
}
