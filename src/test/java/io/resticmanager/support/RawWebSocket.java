package io.resticmanager.support;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;

/**
 * A WebSocket client written by hand over a plain {@link Socket}, for what the JDK client will not do:
 * send invalid UTF-8 or any frame layout, stop reading while keeping TCP open, or shrink its receive
 * buffer. Client frames are masked as RFC 6455 requires; server frames are read unmasked. Not thread
 * safe: one test thread drives it.
 */
public final class RawWebSocket implements AutoCloseable {
  public static final int TEXT = 0x1;
  public static final int BINARY = 0x2;
  public static final int CONTINUATION = 0x0;
  public static final int CLOSE = 0x8;
  public static final int PING = 0x9;
  public static final int PONG = 0xA;

  /** One frame from the server. {@code closeCode} is set for a close frame with a body, else -1. */
  public record Frame(boolean fin, int opcode, byte[] payload) {
    public String text() {
      return new String(payload, UTF_8);
    }

    public int closeCode() {
      return opcode == CLOSE && payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  private RawWebSocket(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  /**
   * Connects and upgrades with {@code Authorization: Bearer token}; fails unless the answer is 101.
   * {@code receiveBufferBytes} > 0 shrinks the socket's receive buffer before connecting, so that a
   * client that stops reading fills up quickly.
   */
  public static RawWebSocket open(int port, String token, int receiveBufferBytes) throws IOException {
    Socket s = new Socket();
    try {
      if (receiveBufferBytes > 0) s.setReceiveBufferSize(receiveBufferBytes);
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(10_000);
      RawWebSocket ws = new RawWebSocket(s);
      ws.out.write(upgradeRequest(token).getBytes(UTF_8));
      ws.out.flush();
      String head = ws.readHead();
      if (!head.startsWith("HTTP/1.1 101")) throw new IOException("upgrade refused: " + head);
      return ws;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /** The upgrade request of an agent, as the JDK client would send it. */
  public static String upgradeRequest(String token) {
    byte[] key = new byte[16];
    RANDOM.nextBytes(key);
    return "GET /api/v1/agents/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n"
        + "Authorization: Bearer " + token + "\r\n\r\n";
  }

  private String readHead() throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int b = in.read();
      if (b < 0) throw new EOFException("connection closed during the handshake: " + head.toString(UTF_8));
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toString(UTF_8);
  }

  public Socket socket() {
    return socket;
  }

  /** Sends one masked frame with any opcode and FIN bit; the payload is sent as given. */
  public void sendFrame(boolean fin, int opcode, byte[] payload) throws IOException {
    out.write(encode(fin, opcode, payload));
    out.flush();
  }

  /** Answers (or starts) the closing handshake with {@code code}. */
  public void sendClose(int code) throws IOException {
    sendFrame(true, CLOSE, new byte[] {(byte) (code >>> 8), (byte) code});
  }

  public void sendText(String text) throws IOException {
    sendFrame(true, TEXT, text.getBytes(UTF_8));
  }

  /** A client frame per RFC 6455 §5.2: FIN, opcode, mask bit, 7/16/64-bit length, mask key, masked payload. */
  public static byte[] encode(boolean fin, int opcode, byte[] payload) {
    ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
    f.write((fin ? 0x80 : 0) | (opcode & 0x0F));
    int n = payload.length;
    if (n < 126) {
      f.write(0x80 | n);
    } else if (n <= 0xFFFF) {
      f.write(0x80 | 126);
      f.write(n >>> 8);
      f.write(n & 0xFF);
    } else {
      f.write(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) f.write((int) (((long) n >>> shift) & 0xFF));
    }
    byte[] mask = new byte[4];
    RANDOM.nextBytes(mask);
    f.write(mask, 0, 4);
    byte[] masked = new byte[n];
    for (int i = 0; i < n; i++) masked[i] = (byte) (payload[i] ^ mask[i & 3]);
    f.write(masked, 0, n);
    return f.toByteArray();
  }

  /** The next frame from the server; null on a read timeout; EOFException when the server closed TCP. */
  public Frame readFrame(Duration timeout) throws IOException {
    socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
    int b0;
    try {
      b0 = in.read();
    } catch (SocketTimeoutException e) {
      return null;
    }
    if (b0 < 0) throw new EOFException("closed by the server");
    socket.setSoTimeout(10_000);
    int b1 = in.readUnsignedByte();
    long len = b1 & 0x7F;
    if (len == 126) len = in.readUnsignedShort();
    else if (len == 127) len = in.readLong();
    if (len > (16 << 20)) throw new IOException("server frame of " + len + " bytes");
    byte[] mask = null;
    if ((b1 & 0x80) != 0) {
      mask = new byte[4];
      in.readFully(mask);
    }
    byte[] payload = new byte[(int) len];
    in.readFully(payload);
    if (mask != null) for (int i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    return new Frame((b0 & 0x80) != 0, b0 & 0x0F, payload);
  }

  /** Says {@code hello} as host {@code name}; fails unless the next text within {@code timeout} is the welcome. */
  public void hello(String name, Duration timeout) throws IOException {
    sendText(TestAgent.hello(name));
    String reply = readText(timeout);
    if (reply == null || !reply.contains("\"welcome\"")) throw new AssertionError("no welcome, got: " + reply);
  }

  /** The next text frame's text within {@code timeout} (other frames are skipped); null if none came. */
  public String readText(Duration timeout) throws IOException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = end - System.nanoTime();
      if (left <= 0) return null;
      Frame f = readFrame(Duration.ofNanos(left));
      if (f == null) return null;
      if (f.opcode() == TEXT) return f.text();
      if (f.opcode() == CLOSE) throw new EOFException("closed by the server with " + f.closeCode());
    }
  }

  /**
   * Reads until the server's close frame and returns its code (1005 for an empty close frame), or -1
   * when TCP ended without one. Fails when neither happens within {@code timeout}.
   */
  public int awaitClose(Duration timeout) throws IOException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = end - System.nanoTime();
      if (left <= 0) throw new AssertionError("no close from the server within " + timeout);
      Frame f;
      try {
        f = readFrame(Duration.ofNanos(left));
      } catch (EOFException | java.net.SocketException e) {
        return -1;
      }
      if (f != null && f.opcode() == CLOSE) return f.payload().length >= 2 ? f.closeCode() : 1005;
    }
  }

  /** True once the server has ended the TCP connection (reads EOF or a reset within {@code timeout}). */
  public boolean awaitEndOfStream(Duration timeout) throws IOException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = end - System.nanoTime();
      if (left <= 0) return false;
      try {
        if (readFrame(Duration.ofNanos(left)) == null) return false;
      } catch (EOFException | java.net.SocketException e) {
        return true;
      }
    }
  }

  /**
   * How the server ends the TCP connection, reading (and dropping) whatever comes first: true for a
   * reset, false for an orderly end (EOF). Fails when neither happens within {@code timeout}.
   */
  public boolean endsWithReset(Duration timeout) throws IOException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = end - System.nanoTime();
      if (left <= 0) throw new AssertionError("the server did not end the connection within " + timeout);
      try {
        readFrame(Duration.ofNanos(left));
      } catch (EOFException e) {
        return false;
      } catch (java.net.SocketException e) {
        return true;
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
