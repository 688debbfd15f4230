package io.resticmanager.ui;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The status page's static files ({@code app.css}, {@code app.js}), read once from the classpath (beside this
 * class, under {@code static/}) and kept in memory with a content hash. Pages link them as
 * {@code /ui/static/<name>?v=<hash>}, so they can be cached for a year: a new build changes the hash.
 */
public final class Assets {
  /** A static file: its bytes, media type and content hash (12 hex digits of SHA-256). */
  public record Asset(byte[] bytes, String mediaType, String hash) {}

  private static final Map<String, String> FILES = Map.of("app.css", "text/css", "app.js", "application/javascript");

  private final Map<String, Asset> assets = new LinkedHashMap<>();

  public Assets() {
    for (Map.Entry<String, String> f : FILES.entrySet()) {
      byte[] bytes = read("static/" + f.getKey());
      assets.put(f.getKey(), new Asset(bytes, f.getValue(), hash(bytes)));
    }
  }

  public Optional<Asset> get(String name) {
    return Optional.ofNullable(assets.get(name));
  }

  /** The versioned URL a page links. */
  public String url(String name) {
    return "/ui/static/" + name + "?v=" + assets.get(name).hash();
  }

  private static byte[] read(String resource) {
    try (InputStream in = Assets.class.getResourceAsStream(resource)) {
      if (in == null) throw new IllegalStateException("missing resource " + resource + " beside " + Assets.class);
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String hash(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
