package io.resticmanager.support;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates for tests, made fresh in a test's directory and never checked in: certificate
 * authorities and the certificates they sign, as PEM files an operator would have (the certificate
 * file holds the chain, the key is PKCS#8, or PKCS#1 for RSA on request).
 *
 * <p>Keys and certificates are made by the JDK's own {@code keytool} (always beside the running
 * {@code java}); only the PKCS#1 form of an RSA key needs {@code openssl}. A private key is taken out of
 * keytool's PKCS#12 store with the JDK's {@link KeyStore} and written as PEM: base64 of its PKCS#8
 * encoding, nothing parsed.
 */
public final class TestCerts {
  private static final String PASS = "test-store-pass";
  private static final int DAYS = 30;

  /** The key algorithm of a certificate. */
  public enum Alg {
    RSA("-keyalg", "RSA", "-keysize", "2048"),
    EC("-keyalg", "EC", "-groupname", "secp256r1");

    private final List<String> keytoolArgs;

    Alg(String... keytoolArgs) {
      this.keytoolArgs = List.of(keytoolArgs);
    }
  }

  /** A certificate (with its chain up to, and including, its CA) and its private key, as PEM files. */
  public record Pair(Path cert, Path key) {}

  private final Path dir;
  private final String name;
  private final Path caStore;
  private final Path caCert;
  private int serial;

  private TestCerts(Path dir, String name) {
    this.dir = dir;
    this.name = name;
    this.caStore = dir.resolve(name + "-ca.p12");
    this.caCert = dir.resolve(name + "-ca.pem");
  }

  /** A new certificate authority named {@code name}, its files under {@code dir}. */
  public static TestCerts authority(Path dir, String name) throws IOException {
    Files.createDirectories(dir);
    TestCerts ca = new TestCerts(dir, name);
    keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048",
        "-dname", "CN=" + name + " Test CA", "-ext", "bc:c", "-validity", Integer.toString(DAYS),
        "-keystore", ca.caStore.toString(), "-storetype", "PKCS12", "-storepass", PASS);
    keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.caStore.toString(), "-storepass", PASS,
        "-file", ca.caCert.toString());
    return ca;
  }

  /** The CA's own certificate (PEM): what a client trusts. */
  public Path caCert() {
    return caCert;
  }

  /** A server certificate for {@code 127.0.0.1} and {@code localhost}, valid for 30 days from now. */
  public Pair server(Alg alg) throws IOException {
    return issue(alg, "localhost", List.of("ip:127.0.0.1", "dns:localhost"), null);
  }

  /** A certificate for {@code 127.0.0.1} and {@code localhost} that expired a day ago. */
  public Pair expired(Alg alg) throws IOException {
    return issue(alg, "localhost", List.of("ip:127.0.0.1", "dns:localhost"), "-3d");
  }

  /**
   * A certificate with the common name {@code cn} and the subject alternative names {@code sans}
   * (keytool's form: {@code ip:127.0.0.1}, {@code dns:example.org}), usable by servers and clients.
   * {@code startDate} null: valid from now for 30 days; otherwise keytool's relative start (such as
   * {@code -3d}) and valid for one day from then.
   */
  public Pair issue(Alg alg, String cn, List<String> sans, String startDate) throws IOException {
    String base = name + "-" + (++serial) + "-" + cn.replaceAll("[^A-Za-z0-9.-]", "_");
    Path store = dir.resolve(base + ".p12");
    Path csr = dir.resolve(base + ".csr");
    Path signed = dir.resolve(base + ".signed.pem");
    List<String> gen = new ArrayList<>(List.of("-genkeypair", "-alias", "key", "-dname", "CN=" + cn,
        "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", PASS));
    gen.addAll(alg.keytoolArgs);
    keytool(gen.toArray(String[]::new));
    keytool("-certreq", "-alias", "key", "-keystore", store.toString(), "-storepass", PASS, "-file", csr.toString());
    List<String> sign = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", "ca", "-keystore", caStore.toString(),
        "-storepass", PASS, "-infile", csr.toString(), "-outfile", signed.toString(),
        "-ext", "eku=serverAuth,clientAuth"));
    if (!sans.isEmpty()) sign.addAll(List.of("-ext", "san=" + String.join(",", sans)));
    if (startDate == null) {
      sign.addAll(List.of("-validity", Integer.toString(DAYS)));
    } else {
      sign.addAll(List.of("-startdate", startDate, "-validity", "1"));
    }
    keytool(sign.toArray(String[]::new));

    Path cert = dir.resolve(base + ".crt.pem");
    Files.writeString(cert, Files.readString(signed, US_ASCII).strip() + "\n"
        + Files.readString(caCert, US_ASCII).strip() + "\n", US_ASCII);
    Path key = dir.resolve(base + ".key.pem");
    Files.writeString(key, pem("PRIVATE KEY", privateKey(store).getEncoded()), US_ASCII);
    return new Pair(cert, key);
  }

  /** The first certificate of a PEM file: the leaf of a chain file. */
  public static X509Certificate leaf(Path pem) throws IOException {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("no certificate in " + pem, e);
    }
  }

  /**
   * A client-side TLS context that trusts the certificates in {@code pem} (a CA's, or a chain file's
   * whole chain) and nothing else.
   */
  public static SSLContext trusting(Path pem) throws IOException {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trustManagers(pem), null);
      return context;
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot trust " + pem, e);
    }
  }

  /** Trust managers that trust the certificates in {@code pem} and nothing else. */
  public static TrustManager[] trustManagers(Path pem) throws IOException {
    try (InputStream in = Files.newInputStream(pem)) {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("trusted-" + (i++), c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      return tmf.getTrustManagers();
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot trust " + pem, e);
    }
  }

  /** The same RSA key in the PKCS#1 form ({@code BEGIN RSA PRIVATE KEY}), converted by {@code openssl}. */
  public static Path pkcs1(Pair rsa) throws IOException {
    return traditional(rsa, "pkcs1", "RSA PRIVATE KEY");
  }

  /** The same EC key in the SEC1 form ({@code BEGIN EC PRIVATE KEY}), converted by {@code openssl}. */
  public static Path sec1(Pair ec) throws IOException {
    return traditional(ec, "sec1", "EC PRIVATE KEY");
  }

  private static Path traditional(Pair pair, String suffix, String label) throws IOException {
    Path out = pair.key().resolveSibling(pair.key().getFileName() + "." + suffix + ".pem");
    run(List.of(Tools.executable("openssl").toString(), "pkey", "-traditional",
        "-in", pair.key().toString(), "-out", out.toString()));
    if (!Files.readString(out, US_ASCII).startsWith("-----BEGIN " + label + "-----")) {
      throw new IOException("openssl did not write a " + label + " to " + out);
    }
    return out;
  }

  private static PrivateKey privateKey(Path store) throws IOException {
    try (InputStream in = Files.newInputStream(store)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, PASS.toCharArray());
      return (PrivateKey) ks.getKey("key", PASS.toCharArray());
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot read the key from " + store, e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static void keytool(String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    run(cmd);
  }

  private static void run(List<String> cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), US_ASCII);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + cmd.get(0));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (p.exitValue() != 0) throw new IOException(cmd.get(0) + " " + cmd.get(1) + " failed: " + out.strip());
  }
}
