package io.resticmanager.agent;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Whom the agent believes to be its server over TLS: the JVM's trust store (its {@code cacerts}, or
 * {@code javax.net.ssl.trustStore}) and, when {@code RM_SERVER_CA_FILE} is set, the certificates of that
 * PEM file. Read by {@link AgentSettings}, turned by {@link Agent} into the {@link SSLContext} of the one
 * {@code HttpClient} that enrolls and holds the WebSocket.
 *
 * <p>Only decides which certificate authorities are trusted: the host name is checked by the JDK
 * {@code HttpClient} itself (endpoint identification {@code HTTPS} on every https/wss connection), which
 * nothing here turns off. {@link #problem} words a refused handshake for the log.
 */
public record ServerTrust(Optional<Path> caFile, List<X509Certificate> cas) {
  /** The JVM's trust store alone. */
  public static final ServerTrust JVM = new ServerTrust(Optional.empty(), List.of());

  public ServerTrust {
    Objects.requireNonNull(caFile, "caFile");
    cas = List.copyOf(cas);
  }

  /**
   * The JVM's trust store plus every certificate in {@code file} (PEM, one or more).
   *
   * @throws IOException the file cannot be read
   * @throws CertificateException it holds no certificate, or one that does not parse
   */
  public static ServerTrust withCaFile(Path file) throws IOException, CertificateException {
    byte[] pem = Files.readAllBytes(file);
    List<X509Certificate> cas = new ArrayList<>();
    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
      cas.add((X509Certificate) c);
    }
    if (cas.isEmpty()) throw new CertificateException("holds no certificate (PEM: -----BEGIN CERTIFICATE-----)");
    return new ServerTrust(Optional.of(file), cas);
  }

  /**
   * The JVM's default context when there is no CA file; otherwise a context whose trust anchors are the
   * JVM trust store's accepted issuers and the file's certificates, validated by the JDK's own PKIX trust
   * manager.
   */
  public SSLContext sslContext() throws GeneralSecurityException, IOException {
    if (cas.isEmpty()) return SSLContext.getDefault();
    KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
    anchors.load(null, null);
    int n = 0;
    for (X509Certificate c : jvmTrustManager().getAcceptedIssuers()) anchors.setCertificateEntry("jvm-" + n++, c);
    for (X509Certificate c : cas) anchors.setCertificateEntry("ca-file-" + n++, c);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(anchors);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  private static X509TrustManager jvmTrustManager() throws GeneralSecurityException {
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init((KeyStore) null);
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) return x;
    }
    throw new GeneralSecurityException("the JVM has no X.509 trust manager");
  }

  /**
   * Why a connection to {@code url} failed, when TLS refused it: the server's certificate is not
   * trusted, or names another host; empty for any other failure.
   */
  public static Optional<String> problem(Throwable failure, URI url) {
    SSLException tls = null;
    CertificateException cert = null;
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (tls == null && t instanceof SSLException s) tls = s;
      if (cert == null && t instanceof CertificateException c) cert = c;
    }
    if (cert != null) {
      String m = String.valueOf(cert.getMessage());
      // The JDK's host name check (sun.security.util.HostnameChecker) words every mismatch so.
      if (m.startsWith("No subject alternative") || m.startsWith("No name matching")) {
        return Optional.of("TLS: the server's certificate does not match the host name [" + url.getHost()
            + "] of the URL (" + m + ")");
      }
      return Optional.of("TLS: the server's certificate is not trusted: its CA is neither in the JVM's trust "
          + "store nor in RM_SERVER_CA_FILE, or it has expired (" + m + ")");
    }
    if (tls != null) return Optional.of("TLS handshake failed: " + tls.getMessage());
    return Optional.empty();
  }

  @Override
  public String toString() {
    return caFile.map(f -> "the JVM's trust store and " + f + " (" + cas.size() + " certificate(s))")
        .orElse("the JVM's trust store");
  }
}
