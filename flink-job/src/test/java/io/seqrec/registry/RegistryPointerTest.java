package io.seqrec.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The traffic split: who gets the canary, and the pointer document's form. */
class RegistryPointerTest {
    @Test
    void routesTheCanaryPercentOfUsersAndKeepsThemThereAsItGrows() {
        RegistryPointer ten = new RegistryPointer(2, "v1", "v2", 10, null);
        RegistryPointer thirty = new RegistryPointer(3, "v1", "v2", 30, null);
        int onCanary = 0;
        for (int u = 0; u < 20_000; u++) {
            String user = "user-" + u;
            if (ten.versionFor(user).equals("v2")) {
                onCanary++;
                assertThat(thirty.versionFor(user)).isEqualTo("v2");
            }
        }
        assertThat(onCanary).isBetween(1_800, 2_200);
        assertThat(new RegistryPointer(1, "v1", null, 0, null).versionFor("user-1"))
                .isEqualTo("v1");
        assertThat(new RegistryPointer(2, "v1", "v2", 100, null).versionFor("user-1"))
                .isEqualTo("v2");
    }

    @Test
    void aUsersBucketIsTheCrc32OfTheirIdSoEveryJvmAgrees() {
        // CRC-32 of "user-1" is 0x7E264614 = 2116437524 (Python: zlib.crc32(b"user-1"))
        assertThat(RegistryPointer.bucket("user-1")).isEqualTo(24);
    }

    @Test
    void writesAndReadsTheDocument() {
        RegistryPointer p = new RegistryPointer(7, "v3", "v4", 25, "v2");
        String json = new String(p.toJson(), StandardCharsets.UTF_8);
        assertThat(json)
                .contains("\"revision\" : 7")
                .contains("\"canary\" : {")
                .contains("\"previous_stable\" : \"v2\"");
        assertThat(RegistryPointer.fromJson(p.toJson(), "x")).isEqualTo(p);
        RegistryPointer plain = new RegistryPointer(1, "v1", null, 0, null);
        assertThat(new String(plain.toJson(), StandardCharsets.UTF_8))
                .contains("\"canary\" : null");
        assertThat(RegistryPointer.fromJson(plain.toJson(), "x")).isEqualTo(plain);
    }

    @Test
    void refusesDocumentsThatAreNotAPointer() {
        assertThatThrownBy(() -> RegistryPointer.fromJson(bytes("[]"), "s3://b/pointer.json"))
                .isInstanceOf(RegistryException.class)
                .hasMessage("s3://b/pointer.json: not a valid pointer: not a JSON object");
        assertThatThrownBy(
                        () ->
                                RegistryPointer.fromJson(
                                        bytes(
                                                "{\"format_version\":1,\"revision\":2,\"stable\":\"v1\","
                                                    + "\"canary\":{\"version\":\"v2\",\"percent\":0}}"),
                                        "p"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("canary percent must be 1..100, got 0");
        assertThatThrownBy(
                        () ->
                                RegistryPointer.fromJson(
                                        bytes(
                                                "{\"format_version\":2,\"revision\":2,\"stable\":\"v1\"}"),
                                        "p"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("format_version 2 is not 1");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
