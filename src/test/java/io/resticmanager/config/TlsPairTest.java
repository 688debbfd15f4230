package io.resticmanager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.support.TestCerts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a certificate chain and its key from PEM files, and every way a pair can be unusable. */
class TlsPairTest {
  @TempDir static Path certs;
  @TempDir Path dir;

  private static TestCerts.Pair rsa;
  private static TestCerts.Pair ec;

  @BeforeAll
  static void makeCertificates() throws Exception {
    TestCerts ca = TestCerts.authority(certs, "main");
    rsa = ca.server(TestCerts.Alg.RSA);
    ec = ca.server(TestCerts.Alg.EC);
  }

  private static TlsPair read(Path cert, Path key) throws TlsPair.Invalid {
    return TlsPair.read(cert, key, Instant.now());
  }

  private static TlsPair.Invalid invalid(Path cert, Path key, Instant now) {
    TlsPair.Invalid e = assertThrows(TlsPair.Invalid.class, () -> TlsPair.read(cert, key, now));
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    return e;
  }

  private static TlsPair.Invalid invalid(Path cert, Path key) {
    return invalid(cert, key, Instant.now());
  }

  private static void assertAbout(TlsPair.Invalid e, TlsPair.Part part, Path file, String reason) {
    assertEquals(part, e.part(), e.getMessage());
    assertEquals(file, e.file(), e.getMessage());
    assertTrue(e.getMessage().contains(reason), e.getMessage());
  }

  private Path write(String name, String text) throws Exception {
    return Files.writeString(dir.resolve(name), text);
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder().encodeToString(der) + "\n-----END " + label
        + "-----\n";
  }

  /** A private key that belongs to no certificate. */
  private Path strayKey(String algorithm) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
    g.initialize(algorithm.equals("RSA") ? 2048 : 256);
    return write("stray-" + algorithm + ".pem", pem("PRIVATE KEY", g.generateKeyPair().getPrivate().getEncoded()));
  }

  @Test
  void rsaAndEcKeysInPkcs8AndAnRsaKeyInPkcs1AreRead() throws Exception {
    TlsPair fromRsa = read(rsa.cert(), rsa.key());
    TlsPair fromEc = read(ec.cert(), ec.key());
    TlsPair fromPkcs1 = read(rsa.cert(), TestCerts.pkcs1(rsa));

    assertEquals("RSA", fromRsa.key().getAlgorithm());
    assertEquals("EC", fromEc.key().getAlgorithm());
    assertEquals(fromRsa.key(), fromPkcs1.key());
    assertEquals(2, fromRsa.chain().size(), "the leaf and its CA, in the file's order");
    assertEquals("CN=localhost", fromRsa.leaf().getSubjectX500Principal().getName());
    assertEquals(fromRsa.leaf(), fromRsa.chain().get(0));
  }

  @Test
  void textAroundTheKeyBlockIsIgnored() throws Exception {
    Path key = write("key.pem", "Bag Attributes\n    friendlyName: server\n" + Files.readString(rsa.key()));

    assertEquals("RSA", read(rsa.cert(), key).key().getAlgorithm());
  }

  @Test
  void anEcKeyInSec1FormIsRefusedWithTheCommandThatConvertsIt() throws Exception {
    Path sec1 = TestCerts.sec1(ec);

    TlsPair.Invalid e = invalid(ec.cert(), sec1);

    assertAbout(e, TlsPair.Part.KEY, sec1, "SEC1");
    assertTrue(e.getMessage().contains("openssl pkcs8 -topk8 -nocrypt -in " + sec1), e.getMessage());
  }

  @Test
  void anEncryptedKeyIsRefusedWithTheCommandThatDecryptsIt() throws Exception {
    Path key = write("encrypted.pem", pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2, 3}));

    TlsPair.Invalid e = invalid(rsa.cert(), key);

    assertAbout(e, TlsPair.Part.KEY, key, "is encrypted");
    assertTrue(e.getMessage().contains("openssl pkcs8 -topk8 -nocrypt"), e.getMessage());
  }

  @Test
  void theKeyOfAnotherCertificateIsRefusedNamingTheKeyFileAndTheCertificate() throws Exception {
    Path stray = strayKey("RSA");

    TlsPair.Invalid e = invalid(rsa.cert(), stray);

    assertAbout(e, TlsPair.Part.KEY, stray, "does not belong to the certificate [CN=localhost] in " + rsa.cert());
    assertAbout(invalid(ec.cert(), strayKey("EC")), TlsPair.Part.KEY, dir.resolve("stray-EC.pem"), "does not belong");
  }

  @Test
  void aKeyOfTheWrongKindIsNamedAsSuch() throws Exception {
    assertAbout(invalid(rsa.cert(), ec.key()), TlsPair.Part.KEY, ec.key(),
        "is an EC key, but the certificate's key is RSA");
    assertAbout(invalid(ec.cert(), rsa.key()), TlsPair.Part.KEY, rsa.key(),
        "is an RSA key, but the certificate's key is EC");
  }

  @Test
  void aCertificateOutsideItsValidityIsRefusedNamingTheCertificateFile() {
    assertAbout(invalid(rsa.cert(), rsa.key(), Instant.now().plus(Duration.ofDays(60))), TlsPair.Part.CERT,
        rsa.cert(), "the certificate [CN=localhost] expired at ");
    assertAbout(invalid(rsa.cert(), rsa.key(), Instant.now().minus(Duration.ofDays(2))), TlsPair.Part.CERT,
        rsa.cert(), "is not valid before ");
  }

  @Test
  void swappedFilesAreRecognised() {
    assertAbout(invalid(rsa.key(), rsa.cert()), TlsPair.Part.CERT, rsa.key(), "swapped");
  }

  @Test
  void filesThatAreNotPemAreRefused() throws Exception {
    Path text = write("notes.txt", "hello\n");
    Path empty = write("empty.pem", "");
    Path corruptCert = write("corrupt.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    Path corruptKey = write("corrupt.key", pem("PRIVATE KEY", new byte[] {1, 2, 3}));

    assertAbout(invalid(text, rsa.key()), TlsPair.Part.CERT, text, "holds no PEM certificate");
    assertAbout(invalid(empty, rsa.key()), TlsPair.Part.CERT, empty, "holds no PEM certificate");
    assertAbout(invalid(corruptCert, rsa.key()), TlsPair.Part.CERT, corruptCert, "is not a readable PEM certificate");
    assertAbout(invalid(rsa.cert(), text), TlsPair.Part.KEY, text, "holds no PEM private key");
    assertAbout(invalid(rsa.cert(), corruptKey), TlsPair.Part.KEY, corruptKey, "is not a readable PKCS#8 private key");
  }

  @Test
  void missingAndUnreadableFilesAreRefused() throws Exception {
    Path missing = dir.resolve("missing.pem");
    // Tests run as root, so a chmod cannot make a file unreadable; a directory cannot be read as a file.
    Path directory = Files.createDirectory(dir.resolve("a-directory"));

    assertAbout(invalid(missing, rsa.key()), TlsPair.Part.CERT, missing, "does not exist");
    assertAbout(invalid(rsa.cert(), missing), TlsPair.Part.KEY, missing, "does not exist");
    assertAbout(invalid(directory, rsa.key()), TlsPair.Part.CERT, directory, "is a directory");
  }

  @Test
  void textFormNamesTheCertificateAndItsExpiry() throws Exception {
    TlsPair pair = read(rsa.cert(), rsa.key());

    assertEquals("certificate [CN=localhost] valid until " + pair.leaf().getNotAfter().toInstant(), pair.toString());
  }
}
