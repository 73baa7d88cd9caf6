package io.seqrec.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PseudonymsTest {
    @TempDir Path tmp;

    private Pseudonyms withKey(byte[] key) throws Exception {
        return new Pseudonyms(Files.write(Files.createTempFile(tmp, "key", ""), key));
    }

    /** RFC 4231, test case 6: a 131-byte key of 0xaa. */
    @Test
    void isHmacSha256AsRfc4231Computes() throws Exception {
        byte[] key = new byte[131];
        Arrays.fill(key, (byte) 0xaa);
        String pseudonym =
                withKey(key).of("Test Using Larger Than Block-Size Key - Hash Key First");
        assertThat(HexFormat.of().formatHex(Base64.getUrlDecoder().decode(pseudonym)))
                .isEqualTo("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        assertThat(pseudonym).hasSize(43);
    }

    @Test
    void aNewKeyMakesNewPseudonyms() throws Exception {
        byte[] key = new byte[32];
        Pseudonyms first = withKey(key);
        assertThat(first.of("u1")).isEqualTo(withKey(key).of("u1")).isNotEqualTo(first.of("u2"));
        key[0] = 1;
        assertThat(withKey(key).of("u1")).isNotEqualTo(first.of("u1"));
    }
}
