package io.resticmanager.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.resticmanager.config.Settings;
import io.resticmanager.support.LogCapture;
import io.resticmanager.support.TestCerts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener's engines, and what a check of the files does with good, bad and unchanged contents. */
class ServerTlsTest {
  @TempDir static Path certs;
  @TempDir Path dir;

  private static TestCerts.Pair a;
  private static TestCerts.Pair b;

  private Path cert;
  private Path key;
  private ServerTls tls;
  private LogCapture logs;

  @BeforeAll
  static void makeCertificates() throws IOException {
    TestCerts ca = TestCerts.authority(certs, "main");
    a = ca.server(TestCerts.Alg.RSA);
    b = ca.server(TestCerts.Alg.EC);
  }

  @BeforeEach
  void startWithPairA() throws IOException {
    cert = dir.resolve("cert.pem");
    key = dir.resolve("key.pem");
    put(a.cert(), a.key());
    tls = ServerTls.load(new Settings.Tls(cert, key, Duration.ofMinutes(1)));
    logs = LogCapture.of(ServerTls.class);
  }

  @AfterEach
  void stopCapturing() {
    logs.close();
  }

  /** Replaces both files as an operator's tooling would: a complete temporary file moved over each. */
  private void put(Path newCert, Path newKey) throws IOException {
    for (Path[] p : new Path[][] {{newCert, cert}, {newKey, key}}) {
      Path tmp = Files.copy(p[0], dir.resolve(p[1].getFileName() + ".tmp"), StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, p[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The leaf a new handshake would be given, asked as JSSE asks. */
  private X509Certificate served(String keyType) {
    String alias = tls.keyManager().chooseEngineServerAlias(keyType, null, null);
    return alias == null ? null : tls.keyManager().getCertificateChain(alias)[0];
  }

  @Test
  void enginesSpeakOnlyTls13And12WithForwardSecretAeadSuites() {
    SSLEngine engine = tls.newEngine();

    assertFalse(engine.getUseClientMode());
    assertEquals(List.of("TLSv1.3", "TLSv1.2"), List.of(engine.getEnabledProtocols()));
    List<String> suites = List.of(engine.getEnabledCipherSuites());
    assertTrue(suites.containsAll(List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")), suites.toString());
    for (String suite : suites) {
      assertTrue(suite.contains("_GCM_") || suite.contains("CHACHA20_POLY1305"), "AEAD only: " + suite);
      assertTrue(suite.startsWith("TLS_AES_") || suite.startsWith("TLS_CHACHA20_") || suite.startsWith("TLS_ECDHE_")
          || suite.startsWith("TLS_DHE_RSA_"), "forward secret only: " + suite);
    }
  }

  @Test
  void unchangedFilesAreLeftAlone() throws Exception {
    assertEquals(ServerTls.Check.UNCHANGED, tls.check(Instant.now()));
    assertEquals(TestCerts.leaf(a.cert()), served("RSA"));
    assertTrue(logs.messages(Level.INFO).isEmpty());
  }

  @Test
  void aGoodNewPairIsServedToNewHandshakesAndLogged() throws Exception {
    put(b.cert(), b.key());

    assertEquals(ServerTls.Check.INSTALLED, tls.check(Instant.now()));

    assertEquals(TestCerts.leaf(b.cert()), served("EC"));
    assertEquals(null, served("RSA"), "pair B has an EC key: RSA suites are no longer offered");
    List<String> info = logs.messages(Level.INFO);
    assertEquals(1, info.size(), info.toString());
    assertTrue(info.get(0).contains(cert.toString()) && info.get(0).contains("[CN=localhost] valid until "
        + TestCerts.leaf(b.cert()).getNotAfter().toInstant()), info.get(0));
    assertEquals(ServerTls.Check.UNCHANGED, tls.check(Instant.now()));
  }

  @Test
  void aBadPairIsRefusedWithOneErrorPerContentsAndTheCurrentPairKept() throws Exception {
    put(b.cert(), a.key());

    assertEquals(ServerTls.Check.REFUSED, tls.check(Instant.now()));
    assertEquals(ServerTls.Check.REFUSED, tls.check(Instant.now()), "tried again at every check");

    assertEquals(TestCerts.leaf(a.cert()), served("RSA"));
    List<String> errors = logs.messages(Level.ERROR);
    assertEquals(1, errors.size(), "logged once, not at every check: " + errors);
    assertTrue(errors.get(0).contains("[" + key + "] is an RSA key, but the certificate's key is EC"), errors.get(0));
    assertTrue(errors.get(0).contains("new connections still get the certificate [CN=localhost]"), errors.get(0));

    Files.writeString(key, "another try\n" + Files.readString(a.key()));
    assertEquals(ServerTls.Check.REFUSED, tls.check(Instant.now()));
    assertEquals(2, logs.messages(Level.ERROR).size(), "other contents, another error, even for the same problem");

    Files.delete(key);
    assertEquals(ServerTls.Check.REFUSED, tls.check(Instant.now()));
    assertEquals(ServerTls.Check.REFUSED, tls.check(Instant.now()));
    assertEquals(3, logs.messages(Level.ERROR).size(), "a missing file is reported once as well");
    assertTrue(logs.messages(Level.ERROR).get(2).contains("[" + key + "] does not exist"));

    put(b.cert(), b.key());
    assertEquals(ServerTls.Check.INSTALLED, tls.check(Instant.now()));
    assertEquals(TestCerts.leaf(b.cert()), served("EC"));
  }

  @Test
  void aPairNotYetValidIsInstalledOnceItIsWithoutAnotherChange() throws Exception {
    put(b.cert(), b.key());

    assertEquals(ServerTls.Check.REFUSED, tls.check(Instant.now().minus(Duration.ofDays(2))));
    assertEquals(ServerTls.Check.INSTALLED, tls.check(Instant.now()));
  }

  @Test
  void aHandshakeThatStraddlesAnInstallGetsAKeyAndAChainThatBelongTogether() throws Exception {
    ReloadingKeyManager km = tls.keyManager();
    String chosenBefore = km.chooseEngineServerAlias("RSA", null, null);
    put(b.cert(), b.key());
    tls.check(Instant.now());

    assertEquals(TestCerts.leaf(a.cert()), km.getCertificateChain(chosenBefore)[0]);
    assertEquals("RSA", km.getPrivateKey(chosenBefore).getAlgorithm());
    assertEquals(2, km.getCertificateChain(chosenBefore).length, "the whole chain, as in the file");
  }

  @Test
  void keyMaterialIsNeverLogged() throws Exception {
    put(b.cert(), a.key());
    tls.check(Instant.now());
    put(b.cert(), b.key());
    tls.check(Instant.now());

    String keyBody = Files.readString(b.key()).lines().skip(1).findFirst().orElseThrow();
    for (Level level : List.of(Level.INFO, Level.ERROR)) {
      for (String m : logs.messages(level)) assertFalse(m.contains(keyBody) || m.contains("PRIVATE KEY"), m);
    }
  }
}
