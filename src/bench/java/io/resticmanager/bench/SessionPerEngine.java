package io.resticmanager.bench;

import java.security.GeneralSecurityException;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * The load tool's client TLS context: every engine and socket factory comes from a new context of its own,
 * with an empty session cache, so that no connection resumes a session another one made. That is how
 * 10,000 agents connect, each its own process; one shared JDK context would instead offer the latest
 * session's ticket to the next handshake and the server would resume it (a third to a half of 1,000
 * connections did, by {@code -Djavax.net.debug}), measuring cheaper handshakes than a fleet makes. The JDK
 * client's {@code jdk.tls.client.disableExtensions=pre_shared_key} fails every later handshake instead
 * ("No PSK available. Unable to resume."). Trusts what the given trust managers trust; initialized once.
 */
final class SessionPerEngine extends SSLContext {

  private SessionPerEngine(TrustManager[] trust, SSLContext base) {
    super(new Spi(trust, base), base.getProvider(), base.getProtocol());
  }

  static SSLContext create(TrustManager[] trust) {
    return new SessionPerEngine(trust, fresh(trust));
  }

  private static SSLContext fresh(TrustManager[] trust) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a TLS context", e);
    }
  }

  private static final class Spi extends SSLContextSpi {
    private final TrustManager[] trust;
    private final SSLContext base;

    Spi(TrustManager[] trust, SSLContext base) {
      this.trust = trust;
      this.base = base;
    }

    @Override
    protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) throws KeyManagementException {
      throw new KeyManagementException("initialized when made");
    }

    @Override
    protected SSLEngine engineCreateSSLEngine() {
      return fresh(trust).createSSLEngine();
    }

    @Override
    protected SSLEngine engineCreateSSLEngine(String host, int port) {
      return fresh(trust).createSSLEngine(host, port);
    }

    @Override
    protected SSLSocketFactory engineGetSocketFactory() {
      return fresh(trust).getSocketFactory();
    }

    @Override
    protected SSLServerSocketFactory engineGetServerSocketFactory() {
      return base.getServerSocketFactory();
    }

    @Override
    protected SSLSessionContext engineGetServerSessionContext() {
      return base.getServerSessionContext();
    }

    @Override
    protected SSLSessionContext engineGetClientSessionContext() {
      return base.getClientSessionContext();
    }

    @Override
    protected SSLParameters engineGetDefaultSSLParameters() {
      return base.getDefaultSSLParameters();
    }

    @Override
    protected SSLParameters engineGetSupportedSSLParameters() {
      return base.getSupportedSSLParameters();
    }
  }
}
