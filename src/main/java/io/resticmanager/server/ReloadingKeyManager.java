package io.resticmanager.server;

import io.resticmanager.config.TlsPair;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The listener's key manager: offers the newest installed certificate chain and key to every new TLS
 * handshake. {@link ServerTls} installs a new pair when the files change; a handshake that is done keeps
 * what it got, so connected agents are untouched. Server side only: never offers a client identity.
 *
 * <p>Each installed pair has an alias of its own. JSSE first chooses an alias, then asks for the key and
 * the chain by that alias; the pair installed before the current one stays reachable, so a handshake
 * that straddles an install still gets a key and a chain that belong together.
 */
final class ReloadingKeyManager extends X509ExtendedKeyManager {
  private record Identity(String alias, TlsPair pair, X509Certificate[] chain) {}

  private record Installed(Identity current, Identity previous) {}

  private volatile Installed installed;
  private long generation;

  ReloadingKeyManager(TlsPair pair) {
    installed = new Installed(identity(pair), null);
  }

  /** From now on, new handshakes get {@code pair}. */
  synchronized void install(TlsPair pair) {
    installed = new Installed(identity(pair), installed.current());
  }

  /** The pair new handshakes get. */
  TlsPair current() {
    return installed.current().pair();
  }

  private Identity identity(TlsPair pair) {
    return new Identity("server-" + (++generation), pair, pair.chain().toArray(X509Certificate[]::new));
  }

  /** JSSE asks per key type ("RSA", "EC", …) of the signature schemes and suites the client offers. */
  private String choose(String keyType) {
    Identity current = installed.current();
    return current.pair().key().getAlgorithm().equals(keyType) ? current.alias() : null;
  }

  private Identity find(String alias) {
    Installed now = installed;
    if (now.current().alias().equals(alias)) return now.current();
    if (now.previous() != null && now.previous().alias().equals(alias)) return now.previous();
    return null;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return choose(keyType);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return choose(keyType);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    String alias = choose(keyType);
    return alias == null ? null : new String[] {alias};
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Identity identity = find(alias);
    return identity == null ? null : identity.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Identity identity = find(alias);
    return identity == null ? null : identity.pair().key();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return null;
  }
}
