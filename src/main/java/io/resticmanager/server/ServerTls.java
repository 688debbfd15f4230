package io.resticmanager.server;

import io.resticmanager.config.Settings;
import io.resticmanager.config.TlsPair;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.concurrent.ExecutionContext;

/**
 * TLS on the listener: the {@link SSLContext} behind {@code Guardian}'s HTTPS binding, and the periodic
 * check that re-reads the certificate and key files. Every new connection gets an engine limited to
 * TLS 1.3 and 1.2 and to forward-secret AEAD cipher suites, and the newest good pair through
 * {@link ReloadingKeyManager}; connections already open are never touched.
 *
 * <p>A check reads both files (following symbolic links, as certbot's {@code live/} directory needs) and
 * does nothing while their contents are those of the pair in use. New contents that make a good pair
 * are installed and logged at INFO; bad ones are logged at ERROR once per distinct content and tried
 * again at every check (a certificate not yet valid becomes good without a change), while the pair in
 * use stays. Checks run one at a time on the blocking dispatcher, never on an actor's thread. Never
 * logs key material.
 */
public final class ServerTls {
  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
  static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
  /**
   * The JDK 17 enables CBC suites and static-RSA key exchange for TLS 1.2 as well; only ephemeral
   * (EC)DHE with AES-GCM or ChaCha20-Poly1305 are kept, which is Mozilla's "intermediate" list. TLS 1.3
   * suites all qualify. Taken from the JDK's enabled ones, so whatever the JDK disables stays disabled.
   */
  private static final Pattern MODERN_SUITE = Pattern.compile(
      "TLS_(AES_\\d+_GCM|CHACHA20_POLY1305)_SHA\\d+|TLS_(ECDHE_ECDSA|ECDHE_RSA|DHE_RSA)_WITH_(AES_\\d+_GCM|CHACHA20_POLY1305)_SHA\\d+");

  /** What one check of the files did. */
  enum Check { UNCHANGED, INSTALLED, REFUSED }

  private final Settings.Tls files;
  private final ReloadingKeyManager keyManager;
  private final SSLContext context;
  private final String[] cipherSuites;
  // Guarded by this: contents of the pair in use, and of the last bad pair reported.
  private String installedContents;
  private String reportedContents;

  private ServerTls(Settings.Tls files, TlsPair pair, String contents) throws GeneralSecurityException {
    this.files = files;
    this.keyManager = new ReloadingKeyManager(pair);
    this.context = SSLContext.getInstance("TLS");
    context.init(new KeyManager[] {keyManager}, null, null);
    this.cipherSuites = Arrays.stream(context.getDefaultSSLParameters().getCipherSuites())
        .filter(s -> MODERN_SUITE.matcher(s).matches())
        .toArray(String[]::new);
    if (cipherSuites.length == 0) throw new GeneralSecurityException("this JDK enables no modern TLS cipher suite");
    this.installedContents = contents;
  }

  /**
   * Reads the pair the settings name. It was checked when the settings were loaded; a failure here
   * means the files changed since.
   */
  public static ServerTls load(Settings.Tls files) throws IOException {
    try {
      Contents c = Contents.read(files);
      return new ServerTls(files, TlsPair.parse(files.certFile(), c.cert(), files.keyFile(), c.key(), Instant.now()),
          c.fingerprint());
    } catch (TlsPair.Invalid e) {
      throw new IOException("TLS: " + e.file() + " " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IOException("TLS: " + e.getMessage(), e);
    }
  }

  /** For {@code ServerBuilder.enableHttps}: a fresh engine per connection. */
  public HttpsConnectionContext connectionContext() {
    return ConnectionContext.httpsServer(this::newEngine);
  }

  SSLEngine newEngine() {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setEnabledProtocols(PROTOCOLS.toArray(String[]::new));
    engine.setEnabledCipherSuites(cipherSuites);
    return engine;
  }

  /** Checks the files every {@code reload-interval} on {@code blocking}; cancel it to stop. */
  public Cancellable scheduleChecks(Scheduler scheduler, ExecutionContext blocking) {
    Duration every = files.reloadInterval();
    return scheduler.scheduleWithFixedDelay(every, every, () -> {
      try {
        check(Instant.now());
      } catch (RuntimeException e) {
        log.error("Checking the TLS files [{}] and [{}] failed: {}", files.certFile(), files.keyFile(), e.toString());
      }
    }, blocking);
  }

  /** Re-reads both files and installs a good new pair; {@code now} judges the certificate's validity. */
  synchronized Check check(Instant now) {
    String contents = null;
    try {
      Contents c = Contents.read(files);
      contents = c.fingerprint();
      if (contents.equals(installedContents)) return Check.UNCHANGED;
      TlsPair pair = TlsPair.parse(files.certFile(), c.cert(), files.keyFile(), c.key(), now);
      install(pair);
      installedContents = contents;
      reportedContents = null;
      log.info("TLS files [{}] and [{}] changed: new connections get the {}", files.certFile(), files.keyFile(), pair);
      return Check.INSTALLED;
    } catch (TlsPair.Invalid e) {
      // An unreadable file has no contents to compare: its problem stands for them.
      String bad = contents != null ? contents : e.file() + " " + e.getMessage();
      if (!bad.equals(reportedContents)) {
        reportedContents = bad;
        log.error("TLS files [{}] and [{}] changed but are refused: [{}] {}; new connections still get the {}",
            files.certFile(), files.keyFile(), e.file(), e.getMessage(), current());
      }
      return Check.REFUSED;
    }
  }

  /**
   * Also forgets the sessions the old pair made, so that a client cannot resume one and skip the new
   * certificate; an open connection keeps its session (SSLSession.invalidate only stops resumption).
   */
  private void install(TlsPair pair) {
    keyManager.install(pair);
    SSLSessionContext sessions = context.getServerSessionContext();
    for (byte[] id : Collections.list(sessions.getIds())) {
      SSLSession session = sessions.getSession(id);
      if (session != null) session.invalidate();
    }
  }

  /** The pair new connections get. */
  TlsPair current() {
    return keyManager.current();
  }

  /** What the start-up log says: the pair in use, its files and how often they are checked. */
  @Override
  public String toString() {
    return "the " + current() + " from [" + files.certFile() + "] and [" + files.keyFile()
        + "]; the files are checked for changes every [" + files.reloadInterval() + "]";
  }

  ReloadingKeyManager keyManager() {
    return keyManager;
  }

  /** Both files' bytes as read now, and a digest of them that stands for the pair without holding the key. */
  private record Contents(byte[] cert, byte[] key, String fingerprint) {
    static Contents read(Settings.Tls files) throws TlsPair.Invalid {
      byte[] cert = TlsPair.readFile(TlsPair.Part.CERT, files.certFile());
      byte[] key = TlsPair.readFile(TlsPair.Part.KEY, files.keyFile());
      return new Contents(cert, key, sha256(cert) + ":" + sha256(key));
    }

    private static String sha256(byte[] bytes) {
      try {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every JDK has SHA-256", e);
      }
    }
  }
}
