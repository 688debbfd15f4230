package io.resticmanager.support;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Locale;

/**
 * One HTTP/1.1 request written byte for byte over a plain socket, for what the JDK client refuses to send:
 * non-ASCII bytes in a header value (the request text is sent as UTF-8), control characters, broken
 * request lines. Reads the response head and a {@code Content-Length} body; the connection may stay open
 * (a 101 or a keep-alive answer), so it never reads to the end of the stream.
 */
public final class RawHttp {
  /** The status, the head as text, and the body decoded as UTF-8. */
  public record Response(int status, String head, String body) {}

  private RawHttp() {}

  /** Sends {@code request} (a whole request: line, headers, blank line, any body) as UTF-8 and reads the answer. */
  public static Response exchange(int port, String request) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(20_000);
      s.getOutputStream().write(request.getBytes(UTF_8));
      s.getOutputStream().flush();
      return read(s.getInputStream());
    }
  }

  private static Response read(InputStream in) throws IOException {
    String head = readHead(in);
    int status = Integer.parseInt(head.split(" ", 3)[1]);
    int length = 0;
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      }
    }
    byte[] body = in.readNBytes(length);
    if (body.length < length) throw new EOFException("body cut short: " + head);
    return new Response(status, head, new String(body, UTF_8));
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    byte[] end = {'\r', '\n', '\r', '\n'};
    int matched = 0;
    while (matched < end.length) {
      int b = in.read();
      if (b < 0) throw new EOFException("closed before the end of the response head: " + head.toString(UTF_8));
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toString(UTF_8);
  }
}
