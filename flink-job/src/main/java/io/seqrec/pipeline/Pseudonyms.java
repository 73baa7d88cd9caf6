package io.seqrec.pipeline;

import io.seqrec.config.KeyFile;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Pseudonyms of user ids: HMAC-SHA256 under a secret key, written as unpadded base64url (43
 * characters). A keyed hash, not a plain one: a plain hash of an id is reversed by hashing every
 * candidate id, which needs no secret.
 *
 * <p>Holds the key file's path, never the key: the job graph (which Flink stores with the job and
 * ships to every task manager) carries the path, and each subtask reads the key from the file,
 * which must be there on every task manager (a mounted secret). The key is never logged or put in a
 * message.
 */
public final class Pseudonyms implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final String ALGORITHM = "HmacSHA256";

    /** A string: {@link Path} is not serializable. */
    private final String keyFile;

    private transient Mac mac;

    public Pseudonyms(Path keyFile) {
        this.keyFile = keyFile.toString();
    }

    /** The pseudonym of {@code userId}. */
    public String of(String userId) {
        if (mac == null) {
            mac = newMac(KeyFile.read(Path.of(keyFile)));
        }
        byte[] digest = mac.doFinal(userId.getBytes(StandardCharsets.UTF_8));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    }

    private static Mac newMac(byte[] key) {
        try {
            Mac m = Mac.getInstance(ALGORITHM);
            m.init(new SecretKeySpec(key, ALGORITHM));
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(ALGORITHM + " is not available in this JVM", e);
        }
    }
}
