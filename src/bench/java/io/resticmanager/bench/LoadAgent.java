package io.resticmanager.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One agent of the load tool: a JDK WebSocket speaking just enough of protocol v1 (hello, heartbeat,
 * job.started + job.finished) and timing the ack of each job.finished from the moment it was handed to
 * the socket. Sends are chained, since a JDK WebSocket takes one outstanding send at a time.
 */
final class LoadAgent implements WebSocket.Listener {

  /** Told about every job.finished ack: which agent, and the latency in nanoseconds. */
  interface AckListener {
    void finishedAcked(LoadAgent agent, long latencyNanos);
  }

  static final AtomicLong ERRORS = new AtomicLong();
  static final AtomicLong CLOSED = new AtomicLong();

  final String hostname;
  private final String token;
  private final CompletableFuture<Void> welcome = new CompletableFuture<>();
  private final Map<String, Long> pending = new ConcurrentHashMap<>();
  private final StringBuilder partial = new StringBuilder();
  private CompletableFuture<?> sendTail = CompletableFuture.completedFuture(null);
  private volatile WebSocket ws;
  private volatile boolean closed;
  volatile AckListener ackListener;

  LoadAgent(String hostname, String token) {
    this.hostname = hostname;
    this.token = token;
  }

  /** Opens the socket, says hello and completes on welcome. */
  CompletableFuture<Void> connect(HttpClient client, URI uri) {
    return client.newWebSocketBuilder()
        .header("Authorization", "Bearer " + token)
        .connectTimeout(Duration.ofSeconds(30))
        .buildAsync(uri, this)
        .thenCompose(w -> {
          ws = w;
          send("{\"type\":\"hello\",\"protocol_version\":1,\"agent_version\":\"load-0.1.0\","
              + "\"restic_version\":\"0.17.3\",\"hostname\":\"" + hostname + "\",\"os\":\"linux/amd64\"}");
          return welcome;
        });
  }

  void heartbeat() {
    if (ws != null && !ws.isOutputClosed()) send("{\"type\":\"heartbeat\"}");
  }

  /** Sends job.started then at once job.finished of a new job; the ack of the latter is timed. */
  void runJob(String kind, String status, long dataAdded) {
    UUID id = UUID.randomUUID();
    Instant end = Instant.now();
    String job = id.toString();
    send("{\"type\":\"job.started\",\"job_id\":\"" + job + "\",\"kind\":\"" + kind + "\",\"started_at\":\""
        + end.minusSeconds(95) + "\"}");
    pending.put(job, System.nanoTime());
    send("{\"type\":\"job.finished\",\"job_id\":\"" + job + "\",\"status\":\"" + status + "\",\"finished_at\":\""
        + end + "\",\"exit_code\":" + (status.equals("failed") ? 1 : 0)
        + ",\"summary\":{\"files_new\":12,\"files_changed\":3,\"files_unmodified\":48213,\"data_added\":" + dataAdded
        + ",\"total_files_processed\":48228,\"total_bytes_processed\":9663676416,\"total_duration\":95.2,"
        + "\"snapshot_id\":\"8f2a9c1be0d44f7e8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071\"}}");
  }

  /** Jobs sent and not yet acked; none once the socket is closed (they will never be). */
  int inFlight() {
    return closed ? 0 : pending.size();
  }

  private synchronized void send(String text) {
    sendTail = sendTail.thenCompose(v -> ws.sendText(text, true)).exceptionally(e -> null);
  }

  void close() {
    WebSocket w = ws;
    if (w == null) return;
    synchronized (this) {
      sendTail.thenCompose(v -> w.sendClose(WebSocket.NORMAL_CLOSURE, "done"));
    }
  }

  void abort() {
    WebSocket w = ws;
    if (w != null) w.abort();
  }

  @Override
  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      String frame = partial.toString();
      partial.setLength(0);
      handle(frame);
    }
    w.request(1);
    return null;
  }

  private void handle(String frame) {
    if (frame.startsWith("{\"type\":\"ack\"")) {
      if (!frame.contains("\"of\":\"job.finished\"")) return;
      int at = frame.indexOf("\"job_id\":\"");
      if (at < 0) return;
      String job = frame.substring(at + 10, at + 46);
      Long sent = pending.remove(job);
      AckListener l = ackListener;
      if (sent != null && l != null) l.finishedAcked(this, System.nanoTime() - sent);
    } else if (frame.startsWith("{\"type\":\"welcome\"")) {
      welcome.complete(null);
    } else if (frame.startsWith("{\"type\":\"error\"")) {
      if (ERRORS.incrementAndGet() <= 5) System.err.println("[load] error frame to " + hostname + ": " + frame);
    }
  }

  @Override
  public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
    closed = true;
    CLOSED.incrementAndGet();
    welcome.completeExceptionally(new IllegalStateException("closed " + statusCode + " " + reason));
    return null;
  }

  @Override
  public void onError(WebSocket w, Throwable error) {
    closed = true;
    CLOSED.incrementAndGet();
    welcome.completeExceptionally(error);
  }
}
