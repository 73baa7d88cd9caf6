package io.seqrec.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A private certificate authority and PKCS#12 stores made with the JDK's {@code keytool} (run as a
 * process, as an operator would), once per test class: created before the class's first test, in a
 * directory whose paths are known from construction on (so broker settings can name them when the
 * extension fields are initialised), deleted after its last test. Register it with an
 * {@code @Order} before the broker that uses it.
 *
 * <ul>
 *   <li>{@link #truststore()}: the CA's certificate.
 *   <li>{@link #brokerKeystore()}: a key and a certificate signed by the CA whose only subject
 *       alternative name is {@code IP:127.0.0.1}, the address the test brokers listen and advertise
 *       on; so hostname verification ({@code ssl.endpoint.identification.algorithm=https}, Kafka's
 *       default) holds for {@code 127.0.0.1} and fails for {@code localhost}.
 *   <li>{@link #clientKeystore()}: a key and a certificate signed by the CA, subject {@code
 *       CN=}{@value #CLIENT_CN}.
 *   <li>{@link #strangerKeystore()}: the same subject, self-signed: a certificate no one trusts.
 * </ul>
 *
 * All stores share one random password, {@link #password()}.
 */
final class TestCertificates implements BeforeAllCallback, AfterAllCallback {
    static final String CLIENT_CN = "seqrec-job";
    private static final String VALIDITY_DAYS = "2";

    private final Path dir;
    private final String password = "store-" + UUID.randomUUID();

    TestCertificates() {
        try {
            dir = Files.createTempDirectory("seqrec-certs-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path truststore() {
        return dir.resolve("truststore.p12");
    }

    Path brokerKeystore() {
        return dir.resolve("broker.p12");
    }

    Path clientKeystore() {
        return dir.resolve("client.p12");
    }

    Path strangerKeystore() {
        return dir.resolve("stranger.p12");
    }

    String password() {
        return password;
    }

    /** Client settings trusting the CA, for SSL or SASL_SSL. */
    Properties trusting(String securityProtocol) {
        Properties p = new Properties();
        p.setProperty("security.protocol", securityProtocol);
        p.setProperty("ssl.truststore.type", "PKCS12");
        p.setProperty("ssl.truststore.location", truststore().toString());
        p.setProperty("ssl.truststore.password", password);
        return p;
    }

    /** {@link #trusting}, presenting the key and certificate in {@code keystore}. */
    Properties presenting(String securityProtocol, Path keystore) {
        Properties p = trusting(securityProtocol);
        p.setProperty("ssl.keystore.type", "PKCS12");
        p.setProperty("ssl.keystore.location", keystore.toString());
        p.setProperty("ssl.keystore.password", password);
        p.setProperty("ssl.key.password", password);
        return p;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Path ca = dir.resolve("ca.p12");
        Path caPem = dir.resolve("ca.pem");
        keytool("-genkeypair", "-alias", "ca", "-dname", "CN=seqrec-test-ca", "-ext", "bc:c")
                .keystore(ca)
                .newKey()
                .run();
        keytool("-exportcert", "-rfc", "-alias", "ca", "-file", caPem.toString())
                .keystore(ca)
                .run();
        importCa(truststore(), caPem);
        signed(ca, caPem, brokerKeystore(), "CN=seqrec-test-broker", "SAN=ip:127.0.0.1");
        signed(ca, caPem, clientKeystore(), "CN=" + CLIENT_CN, null);
        keytool("-genkeypair", "-alias", "leaf", "-dname", "CN=" + CLIENT_CN)
                .keystore(strangerKeystore())
                .newKey()
                .run();
    }

    /** A key pair in {@code keystore} whose certificate the CA signed; the chain included. */
    private void signed(Path ca, Path caPem, Path keystore, String dname, String extension)
            throws Exception {
        Path csr = dir.resolve(keystore.getFileName() + ".csr");
        Path pem = dir.resolve(keystore.getFileName() + ".pem");
        keytool("-genkeypair", "-alias", "leaf", "-dname", dname).keystore(keystore).newKey().run();
        keytool("-certreq", "-alias", "leaf", "-file", csr.toString()).keystore(keystore).run();
        Keytool sign =
                keytool(
                                "-gencert",
                                "-rfc",
                                "-alias",
                                "ca",
                                "-infile",
                                csr.toString(),
                                "-outfile",
                                pem.toString(),
                                "-validity",
                                VALIDITY_DAYS)
                        .keystore(ca);
        if (extension != null) {
            sign = sign.with("-ext", extension);
        }
        sign.run();
        importCa(keystore, caPem);
        // The signed certificate replaces the self-signed one; keytool links it to the CA above.
        keytool("-importcert", "-alias", "leaf", "-file", pem.toString()).keystore(keystore).run();
    }

    private void importCa(Path keystore, Path caPem) throws Exception {
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString())
                .keystore(keystore)
                .run();
    }

    private Keytool keytool(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        return new Keytool(command);
    }

    private final class Keytool {
        private final List<String> command;

        Keytool(List<String> command) {
            this.command = command;
        }

        Keytool with(String... args) {
            List<String> more = new ArrayList<>(command);
            more.addAll(List.of(args));
            return new Keytool(more);
        }

        Keytool keystore(Path file) {
            return with(
                    "-keystore", file.toString(), "-storetype", "PKCS12", "-storepass", password);
        }

        /** EC P-256 keys: generated in milliseconds, unlike RSA. */
        Keytool newKey() {
            return with(
                    "-keyalg",
                    "EC",
                    "-groupname",
                    "secp256r1",
                    "-keypass",
                    password,
                    "-validity",
                    VALIDITY_DAYS);
        }

        void run() throws Exception {
            Path log = Files.createTempFile(dir, "keytool-", ".log");
            Process p =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(log.toFile())
                            .start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("keytool did not finish: " + command.get(1));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(
                        "keytool " + command.get(1) + " failed: " + Files.readString(log));
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        Utils.delete(dir.toFile());
    }
}
