package io.seqrec.kafka;

import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;

/**
 * Kafka client settings made safe to print: every value Kafka itself treats as a password ({@code
 * sasl.jaas.config}, {@code ssl.*.password}, {@code ssl.keystore.key}, ...) and any other key that
 * names a password, secret, token or credential (or is a {@code *.user.info}) is replaced by
 * {@value #HIDDEN}. Whatever seqrec logs or prints about client configuration goes through {@link
 * #masked}.
 */
public final class ClientSettings {
    public static final String HIDDEN = "[hidden]";

    private ClientSettings() {}

    /** The settings, sorted by key, with secret values hidden. */
    public static Map<String, String> masked(Properties props) {
        Map<String, String> out = new TreeMap<>();
        for (String key : props.stringPropertyNames()) {
            out.put(key, isSecret(key) ? HIDDEN : props.getProperty(key));
        }
        return out;
    }

    /** Whether a client setting's value must never be shown. */
    public static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        if (k.contains("password")
                || k.contains("secret")
                || k.contains("jaas")
                || k.contains("credential")
                || k.contains("token")
                || k.endsWith("user.info")) {
            return true;
        }
        for (ConfigDef def :
                new ConfigDef[] {
                    ProducerConfig.configDef(),
                    ConsumerConfig.configDef(),
                    AdminClientConfig.configDef()
                }) {
            ConfigDef.ConfigKey configKey = def.configKeys().get(key);
            if (configKey != null && configKey.type == ConfigDef.Type.PASSWORD) {
                return true;
            }
        }
        return false;
    }
}
