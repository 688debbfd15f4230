package io.resticmanager.config;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.pki.pem.DERPrivateKeyLoader;
import org.apache.pekko.pki.pem.PEMDecoder;

/**
 * A certificate chain and its private key, read from PEM files and checked to belong together and to be
 * valid now: what the HTTPS listener presents. {@link SettingsLoader} reads the pair once at start (a bad
 * one is a {@link ConfigError}); the server reads it again whenever the files change.
 *
 * <p>The certificate file holds the leaf first, then any intermediates (certbot's {@code fullchain.pem});
 * the JDK's {@link CertificateFactory} reads it. The key is PKCS#8 ({@code BEGIN PRIVATE KEY}, RSA or EC)
 * or PKCS#1 ({@code BEGIN RSA PRIVATE KEY}). Pekko's {@link PEMDecoder} takes the PEM armour off; PKCS#8 is
 * the JDK's own {@link PKCS8EncodedKeySpec}, with the algorithm of the certificate's key (pekko-pki's
 * PKCS#8 path reads RSA only); PKCS#1 is pekko-pki's {@link DERPrivateKeyLoader}. SEC1 EC keys
 * ({@code BEGIN EC PRIVATE KEY}) would need ASN.1 parsing that neither offers: they are refused with the
 * {@code openssl} command that converts them. Never prints or keeps the key's text.
 */
public final class TlsPair {
  /** Larger files are refused unread: a certificate chain or a key is a few KiB. */
  static final int MAX_FILE_BYTES = 1 << 20;
  /** The signature each supported key algorithm proves possession with. */
  private static final Map<String, String> CHALLENGE_SIGNATURES = Map.of("RSA", "SHA256withRSA", "EC", "SHA256withECDSA");
  private static final Pattern KEY_BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?-----END \\1-----", Pattern.DOTALL);
  private static final Pattern ANY_BLOCK = Pattern.compile("-----BEGIN ([^-]*)-----");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Which of the two files a problem is in. */
  public enum Part { CERT, KEY }

  /** Why a pair cannot be used: the file it is about and a sentence saying what is wrong with it. */
  public static final class Invalid extends Exception {
    private final Part part;
    private final Path file;

    Invalid(Part part, Path file, String reason) {
      super(reason);
      this.part = part;
      this.file = file;
    }

    public Part part() {
      return part;
    }

    public Path file() {
      return file;
    }
  }

  private final List<X509Certificate> chain;
  private final PrivateKey key;

  private TlsPair(List<X509Certificate> chain, PrivateKey key) {
    this.chain = List.copyOf(chain);
    this.key = key;
  }

  /** Reads both files (following symbolic links) and checks the pair as of {@code now}. */
  public static TlsPair read(Path certFile, Path keyFile, Instant now) throws Invalid {
    return parse(certFile, readFile(Part.CERT, certFile), keyFile, readFile(Part.KEY, keyFile), now);
  }

  /** Reads one file of a pair, refusing what cannot be a PEM file of a few KiB. */
  public static byte[] readFile(Part part, Path file) throws Invalid {
    if (Files.isDirectory(file)) throw new Invalid(part, file, "is a directory, not a file");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] content = in.readNBytes(MAX_FILE_BYTES + 1);
      if (content.length > MAX_FILE_BYTES) throw new Invalid(part, file, "is larger than 1 MiB: not a PEM file");
      return content;
    } catch (NoSuchFileException e) {
      throw new Invalid(part, file, "does not exist");
    } catch (AccessDeniedException e) {
      throw new Invalid(part, file, "cannot be read: permission denied");
    } catch (IOException e) {
      throw new Invalid(part, file, "cannot be read: " + e);
    }
  }

  /** Checks a pair whose files' contents are already read. */
  public static TlsPair parse(Path certFile, byte[] certPem, Path keyFile, byte[] keyPem, Instant now)
      throws Invalid {
    List<X509Certificate> chain = certificates(certFile, certPem);
    X509Certificate leaf = chain.get(0);
    try {
      leaf.checkValidity(Date.from(now));
    } catch (CertificateExpiredException e) {
      throw new Invalid(Part.CERT, certFile, "the certificate " + subject(leaf) + " expired at "
          + leaf.getNotAfter().toInstant());
    } catch (CertificateNotYetValidException e) {
      throw new Invalid(Part.CERT, certFile, "the certificate " + subject(leaf) + " is not valid before "
          + leaf.getNotBefore().toInstant());
    }
    String algorithm = leaf.getPublicKey().getAlgorithm();
    if (!CHALLENGE_SIGNATURES.containsKey(algorithm)) {
      throw new Invalid(Part.CERT, certFile, "the certificate's key is " + algorithm + "; RSA and EC keys are supported");
    }
    PrivateKey key = privateKey(keyFile, keyPem, algorithm);
    if (!provesPossession(key, leaf)) {
      throw new Invalid(Part.KEY, keyFile, "the key does not belong to the certificate " + subject(leaf) + " in "
          + certFile);
    }
    return new TlsPair(chain, key);
  }

  private static List<X509Certificate> certificates(Path file, byte[] pem) throws Invalid {
    String text = new String(pem, US_ASCII);
    if (!text.contains("-----BEGIN CERTIFICATE-----")) {
      throw new Invalid(Part.CERT, file, text.contains("PRIVATE KEY-----")
          ? "holds a private key, not a certificate (are the certificate and key files swapped?)"
          : "holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    List<X509Certificate> chain = new ArrayList<>();
    try {
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
        chain.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new Invalid(Part.CERT, file, "is not a readable PEM certificate chain: " + oneLine(e.getMessage()));
    }
    if (chain.isEmpty()) throw new Invalid(Part.CERT, file, "holds no certificate");
    return chain;
  }

  private static PrivateKey privateKey(Path file, byte[] pem, String certAlgorithm) throws Invalid {
    String text = new String(pem, US_ASCII);
    Matcher block = KEY_BLOCK.matcher(text);
    if (!block.find()) {
      Matcher any = ANY_BLOCK.matcher(text);
      throw new Invalid(Part.KEY, file, any.find()
          ? "holds no PEM private key, only " + any.group(1) + " (are the certificate and key files swapped?)"
          : "holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
    }
    String convert = "; convert it to PKCS#8 with: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out "
        + file + ".pk8";
    String label = block.group(1);
    PEMDecoder.DERData der;
    try {
      der = PEMDecoder.decode(block.group());
    } catch (RuntimeException e) {
      throw new Invalid(Part.KEY, file, "the " + label + " block is not valid PEM: " + oneLine(e.getMessage()));
    }
    switch (label) {
      case "PRIVATE KEY":
        return pkcs8(file, der.bytes(), certAlgorithm);
      case "RSA PRIVATE KEY":
        try {
          return DERPrivateKeyLoader.load(der);
        } catch (RuntimeException e) {
          throw new Invalid(Part.KEY, file, "is not a readable PKCS#1 RSA private key: " + oneLine(e.getMessage()));
        }
      case "EC PRIVATE KEY":
        throw new Invalid(Part.KEY, file, "is an EC key in the SEC1 form (BEGIN EC PRIVATE KEY), which is not read"
            + convert);
      case "ENCRYPTED PRIVATE KEY":
        throw new Invalid(Part.KEY, file, "is encrypted; the server needs it unencrypted" + convert);
      default:
        throw new Invalid(Part.KEY, file, "is a " + label + ", not a PKCS#8 (BEGIN PRIVATE KEY) or PKCS#1 "
            + "(BEGIN RSA PRIVATE KEY) key" + convert);
    }
  }

  /**
   * PKCS#8 names its algorithm inside the encoding; instead of reading that ASN.1, the key is decoded with
   * the certificate's algorithm, and only when that fails with the other one, to tell a key of the wrong
   * kind from an unreadable one.
   */
  private static PrivateKey pkcs8(Path file, byte[] der, String certAlgorithm) throws Invalid {
    try {
      return KeyFactory.getInstance(certAlgorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (InvalidKeySpecException e) {
      for (String other : CHALLENGE_SIGNATURES.keySet()) {
        if (other.equals(certAlgorithm)) continue;
        try {
          KeyFactory.getInstance(other).generatePrivate(new PKCS8EncodedKeySpec(der));
          throw new Invalid(Part.KEY, file, "is an " + other + " key, but the certificate's key is " + certAlgorithm);
        } catch (GeneralSecurityException notThatEither) {
          // neither: reported below
        }
      }
      throw new Invalid(Part.KEY, file, "is not a readable PKCS#8 private key: " + oneLine(e.getMessage()));
    } catch (GeneralSecurityException e) {
      throw new Invalid(Part.KEY, file, "cannot be read: " + oneLine(e.getMessage()));
    }
  }

  /** Signs a random challenge with the key and verifies it with the certificate: no key material compared by hand. */
  private static boolean provesPossession(PrivateKey key, X509Certificate leaf) {
    String algorithm = CHALLENGE_SIGNATURES.get(leaf.getPublicKey().getAlgorithm());
    byte[] challenge = new byte[32];
    RANDOM.nextBytes(challenge);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String subject(X509Certificate c) {
    return "[" + c.getSubjectX500Principal().getName() + "]";
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").trim();
  }

  /** The leaf first, then the intermediates, as in the file. */
  public List<X509Certificate> chain() {
    return chain;
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  public PrivateKey key() {
    return key;
  }

  /** The leaf's subject and expiry, for logs; never the key. */
  @Override
  public String toString() {
    return "certificate " + subject(leaf()) + " valid until " + leaf().getNotAfter().toInstant();
  }
}
