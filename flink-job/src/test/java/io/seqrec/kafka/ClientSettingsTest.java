package io.seqrec.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.junit.jupiter.api.Test;

class ClientSettingsTest {
    @Test
    void hidesEverySecretAndKeepsTheRest() {
        Properties p = new Properties();
        p.setProperty("security.protocol", "SASL_SSL");
        p.setProperty("sasl.mechanism", "SCRAM-SHA-256");
        p.setProperty(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required"
                        + " username=\"seqrec\" password=\"pw-1\";");
        p.setProperty("ssl.truststore.password", "pw-2");
        p.setProperty("ssl.keystore.password", "pw-3");
        p.setProperty("ssl.key.password", "pw-4");
        p.setProperty("ssl.keystore.key", "-----BEGIN PRIVATE KEY----- pw-5");
        p.setProperty("listener.name.client.scram-sha-256.sasl.jaas.config", "pw-6");
        p.setProperty("sasl.oauthbearer.client.credentials.client.secret", "pw-7");
        p.setProperty("basic.auth.user.info", "user:pw-8");
        p.setProperty("my.custom.secret", "pw-9");
        p.setProperty("linger.ms", "5");

        String shown = ClientSettings.masked(p).toString();

        assertThat(shown).doesNotContain("pw-");
        assertThat(shown)
                .contains("security.protocol=SASL_SSL")
                .contains("sasl.mechanism=SCRAM-SHA-256")
                .contains("linger.ms=5")
                .contains("sasl.jaas.config=" + ClientSettings.HIDDEN);
    }
}
