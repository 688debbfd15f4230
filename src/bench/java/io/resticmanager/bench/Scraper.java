package io.resticmanager.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A {@code GET /metrics} client for the load tool that, like a Prometheus server, is a lean reader of the
 * body: one keep-alive HTTP/1.1 connection, each response read through one reused 64 KiB buffer and
 * counted, not kept. The JDK {@code HttpClient} in the load tool's JVM (which also holds 10,000 agents)
 * collects every 11.6 MB body into new arrays, and its own GC pauses then show in the server's latency.
 *
 * <p>Understands {@code Content-Length} and {@code Transfer-Encoding: chunked} bodies, and nothing else it
 * does not need (no redirects, no {@code 1xx}). {@link #scrape} returns the body bytes as sent (compressed
 * when gzip was asked for); with {@code keep} set it also returns them, for a check of what was read.
 * An {@code https} base is spoken over an {@link SSLSocket} of the given context, the host name verified
 * as an HTTPS client does; the handshake happens when the connection opens, before the first request.
 * Not thread-safe.
 */
final class Scraper implements AutoCloseable {
  private final InetSocketAddress address;
  private final SSLContext tls;
  private final byte[] request;
  private final byte[] gzipRequest;
  private final byte[] buffer = new byte[64 * 1024];
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private int pos;
  private int limit;

  /** The status and body of one response; {@code body} is null unless it was kept. */
  record Response(int status, long bodyBytes, boolean gzipped, byte[] body) {}

  /** {@code tls}: the client context for an {@code https} base; unused (may be null) for {@code http}. */
  Scraper(URI base, String metricsToken, SSLContext tls) {
    this.address = new InetSocketAddress(base.getHost(), base.getPort());
    this.tls = base.getScheme().equals("https") ? tls : null;
    String head = "GET /metrics HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
        + "\r\nAuthorization: Bearer " + metricsToken + "\r\n";
    this.request = (head + "\r\n").getBytes(StandardCharsets.US_ASCII);
    this.gzipRequest = (head + "Accept-Encoding: gzip\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  Response scrape(boolean gzip, boolean keep) throws IOException {
    if (socket == null) connect();
    out.write(gzip ? gzipRequest : request);
    out.flush();
    String statusLine = line();
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) throw new IOException("not HTTP: " + statusLine);
    int status = Integer.parseInt(parts[1]);
    long contentLength = -1;
    boolean chunked = false;
    boolean close = false;
    boolean gzipped = false;
    for (String header = line(); !header.isEmpty(); header = line()) {
      int colon = header.indexOf(':');
      String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = header.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
      switch (name) {
        case "content-length" -> contentLength = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.contains("chunked");
        case "connection" -> close = value.contains("close");
        case "content-encoding" -> gzipped = value.contains("gzip");
        default -> { }
      }
    }
    ByteArrayOutputStream kept = keep ? new ByteArrayOutputStream() : null;
    long bytes = 0;
    if (chunked) {
      for (long size = Long.parseLong(chunkSize(line()), 16); size > 0; size = Long.parseLong(chunkSize(line()), 16)) {
        skip(size, kept);
        bytes += size;
        if (!line().isEmpty()) throw new IOException("no CRLF after a chunk");
      }
      while (!line().isEmpty()) {
        // trailer fields, none expected
      }
    } else if (contentLength >= 0) {
      skip(contentLength, kept);
      bytes = contentLength;
    } else {
      throw new IOException("neither Content-Length nor chunked: cannot tell where the body ends");
    }
    if (close) close();
    return new Response(status, bytes, gzipped, keep ? kept.toByteArray() : null);
  }

  private void connect() throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(address, 10_000);
    socket.setSoTimeout(30_000);
    if (tls != null) {
      SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(socket, address.getHostString(),
          address.getPort(), true);
      SSLParameters params = ssl.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      ssl.setSSLParameters(params);
      ssl.startHandshake();
      socket = ssl;
    }
    in = socket.getInputStream();
    out = socket.getOutputStream();
    pos = 0;
    limit = 0;
  }

  /** The open connection's TLS protocol and cipher suite ({@code TLSv1.3 TLS_AES_256_GCM_SHA384}); null for plain. */
  String tlsSession() {
    return socket instanceof SSLSocket ssl
        ? ssl.getSession().getProtocol() + " " + ssl.getSession().getCipherSuite() : null;
  }

  private static String chunkSize(String line) {
    int semicolon = line.indexOf(';');
    return (semicolon < 0 ? line : line.substring(0, semicolon)).trim();
  }

  /** One line without its CRLF, as ASCII. */
  private String line() throws IOException {
    StringBuilder s = new StringBuilder(64);
    while (true) {
      if (pos == limit) fill();
      byte b = buffer[pos++];
      if (b == '\n') {
        int n = s.length();
        if (n > 0 && s.charAt(n - 1) == '\r') s.setLength(n - 1);
        return s.toString();
      }
      s.append((char) (b & 0xFF));
    }
  }

  private void skip(long n, ByteArrayOutputStream kept) throws IOException {
    while (n > 0) {
      if (pos == limit) fill();
      int take = (int) Math.min(n, limit - pos);
      if (kept != null) kept.write(buffer, pos, take);
      pos += take;
      n -= take;
    }
  }

  private void fill() throws IOException {
    int read = in.read(buffer);
    if (read < 0) throw new IOException("connection closed mid-response");
    pos = 0;
    limit = read;
  }

  @Override
  public void close() throws IOException {
    if (socket != null) socket.close();
    socket = null;
  }
}
