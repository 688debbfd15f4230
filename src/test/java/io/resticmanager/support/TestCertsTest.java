package io.resticmanager.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test certificates are what the TLS tests take them for: chained, named, expired, from other CAs. */
class TestCertsTest {
  @TempDir Path dir;

  @Test
  void aServerCertificateChainsToItsAuthorityAndNamesLoopback() throws Exception {
    TestCerts ca = TestCerts.authority(dir, "main");
    TestCerts other = TestCerts.authority(dir, "other");
    for (TestCerts.Alg alg : TestCerts.Alg.values()) {
      TestCerts.Pair pair = ca.server(alg);
      List<X509Certificate> chain = certs(pair.cert());
      assertEquals(2, chain.size(), "leaf and CA");
      X509Certificate root = certs(ca.caCert()).get(0);
      chain.get(0).verify(root.getPublicKey());
      assertThrows(Exception.class, () -> chain.get(0).verify(certs(other.caCert()).get(0).getPublicKey()));
      chain.get(0).checkValidity();
      List<String> sans = new ArrayList<>();
      chain.get(0).getSubjectAlternativeNames().forEach(s -> sans.add(String.valueOf(s.get(1))));
      assertTrue(sans.contains("127.0.0.1") && sans.contains("localhost"), sans.toString());
      String pem = Files.readString(pair.key());
      byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
      var key = KeyFactory.getInstance(alg.name()).generatePrivate(new PKCS8EncodedKeySpec(der));
      assertEquals(alg.name(), key.getAlgorithm());
    }
  }

  @Test
  void anExpiredCertificateHasExpired() throws Exception {
    TestCerts ca = TestCerts.authority(dir, "main");
    X509Certificate leaf = certs(ca.expired(TestCerts.Alg.EC).cert()).get(0);
    assertThrows(CertificateExpiredException.class, leaf::checkValidity);
  }

  @Test
  void anRsaKeyCanBeHadInPkcs1Form() throws Exception {
    Tools.executable("openssl");
    TestCerts ca = TestCerts.authority(dir, "main");
    Path pkcs1 = TestCerts.pkcs1(ca.server(TestCerts.Alg.RSA));
    assertTrue(Files.readString(pkcs1).startsWith("-----BEGIN RSA PRIVATE KEY-----"));
  }

  private static List<X509Certificate> certs(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      List<X509Certificate> out = new ArrayList<>();
      CertificateFactory.getInstance("X.509").generateCertificates(in).forEach(c -> out.add((X509Certificate) c));
      return out;
    }
  }
}
