package io.resticmanager.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One agent of the load tool: a JDK WebSocket speaking just enough of protocol v1 (hello, heartbeat,
 * job.started + job.finished) and timing the ack of each job.finished from the moment it was handed to
 * the socket. Sends are chained, since a JDK WebSocket takes one outstanding send at a time.
 *
 * <p>Given several nodes ({@link #reconnectAmong}), it behaves as the real agent with a list of server
 * URLs: when its socket closes it connects to another node picked at random after 0.5–1.5 s (again until
 * one welcomes it), and then resends every job whose job.finished was not acked, under the same job id.
 */
final class LoadAgent implements WebSocket.Listener {

  /** Told about every job.finished ack: which agent, which job, and the latency in nanoseconds. */
  interface AckListener {
    void finishedAcked(LoadAgent agent, String jobId, long latencyNanos);
  }

  static final AtomicLong ERRORS = new AtomicLong();
  static final AtomicLong CLOSED = new AtomicLong();
  static final AtomicLong RECONNECTED = new AtomicLong();

  /** A job not yet acked: when its job.finished was first sent, and both frames for a resend. */
  private record Pending(long sentNanos, String started, String finished) {}

  final String hostname;
  private final String token;
  private volatile CompletableFuture<Void> welcome;
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  private final StringBuilder partial = new StringBuilder();
  private CompletableFuture<?> sendTail = CompletableFuture.completedFuture(null);
  private volatile WebSocket ws;
  private volatile boolean closed;
  volatile AckListener ackListener;
  private HttpClient client;
  private URI at;
  /** The agent endpoints of every node; empty: a closed socket stays closed. */
  private volatile List<URI> nodes = List.of();
  private final AtomicBoolean reconnecting = new AtomicBoolean();
  /** Closed by the load tool: no more reconnecting. */
  private volatile boolean leaving;

  LoadAgent(String hostname, String token) {
    this.hostname = hostname;
    this.token = token;
  }

  /** Opens the socket, says hello and completes on welcome. */
  CompletableFuture<Void> connect(HttpClient client, URI uri) {
    this.client = client;
    this.at = uri;
    CompletableFuture<Void> w = new CompletableFuture<>();
    welcome = w;
    return client.newWebSocketBuilder()
        .header("Authorization", "Bearer " + token)
        .connectTimeout(Duration.ofSeconds(30))
        .buildAsync(uri, this)
        .thenCompose(socket -> {
          synchronized (this) {
            ws = socket;
            sendTail = CompletableFuture.completedFuture(null);
          }
          send("{\"type\":\"hello\",\"protocol_version\":1,\"agent_version\":\"load-0.1.0\","
              + "\"restic_version\":\"0.17.3\",\"hostname\":\"" + hostname + "\",\"os\":\"linux/amd64\"}");
          return w;
        });
  }

  /** From now on a closed socket is followed by a connection to another of {@code nodes}. */
  void reconnectAmong(List<URI> nodes) {
    this.nodes = List.copyOf(nodes);
  }

  /** Welcomed on its current socket, which is open. */
  boolean connected() {
    CompletableFuture<Void> w = welcome;
    return !closed && w != null && w.isDone() && !w.isCompletedExceptionally();
  }

  private void reconnectLater() {
    long delay = 500 + ThreadLocalRandom.current().nextLong(1000);
    CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS))
        .thenCompose(v -> connect(client, another()))
        .whenComplete((v, e) -> {
          if (leaving) return;
          if (e != null) {
            reconnectLater();
            return;
          }
          reconnecting.set(false);
          RECONNECTED.incrementAndGet();
          for (Pending p : pending.values()) {
            send(p.started());
            send(p.finished());
          }
          // Lost again before the flag was down: lost() left the reconnecting to this chain.
          if (closed && reconnecting.compareAndSet(false, true)) reconnectLater();
        });
  }

  /** A node other than the one last tried, at random. */
  private URI another() {
    List<URI> n = nodes;
    if (n.size() < 2) return n.get(0);
    URI next;
    do {
      next = n.get(ThreadLocalRandom.current().nextInt(n.size()));
    } while (next.equals(at));
    return next;
  }

  void heartbeat() {
    if (ws != null && !ws.isOutputClosed()) send("{\"type\":\"heartbeat\"}");
  }

  /** Sends job.started then at once job.finished of a new job; the ack of the latter is timed. */
  void runJob(String kind, String status, long dataAdded) {
    UUID id = UUID.randomUUID();
    Instant end = Instant.now();
    String job = id.toString();
    String started = "{\"type\":\"job.started\",\"job_id\":\"" + job + "\",\"kind\":\"" + kind
        + "\",\"started_at\":\"" + end.minusSeconds(95) + "\"}";
    String finished = "{\"type\":\"job.finished\",\"job_id\":\"" + job + "\",\"status\":\"" + status
        + "\",\"finished_at\":\"" + end + "\",\"exit_code\":" + (status.equals("failed") ? 1 : 0)
        + ",\"summary\":{\"files_new\":12,\"files_changed\":3,\"files_unmodified\":48213,\"data_added\":" + dataAdded
        + ",\"total_files_processed\":48228,\"total_bytes_processed\":9663676416,\"total_duration\":95.2,"
        + "\"snapshot_id\":\"8f2a9c1be0d44f7e8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071\"}}";
    send(started);
    pending.put(job, new Pending(System.nanoTime(), started, finished));
    send(finished);
  }

  /**
   * Jobs sent and not yet acked; none once the socket is closed for good (they will never be), all while
   * it reconnects (they will be resent).
   */
  int inFlight() {
    return closed && (nodes.isEmpty() || leaving) ? 0 : pending.size();
  }

  /** Queues a frame on the current socket; one that fails (the socket died) is dropped. */
  private synchronized void send(String text) {
    WebSocket target = ws;
    sendTail = sendTail.thenCompose(v -> target.sendText(text, true)).exceptionally(e -> null);
  }

  void close() {
    leaving = true;
    WebSocket w = ws;
    if (w == null) return;
    synchronized (this) {
      sendTail.thenCompose(v -> w.sendClose(WebSocket.NORMAL_CLOSURE, "done"));
    }
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
      Pending sent = pending.remove(job);
      AckListener l = ackListener;
      if (sent != null && l != null) l.finishedAcked(this, job, System.nanoTime() - sent.sentNanos());
    } else if (frame.startsWith("{\"type\":\"welcome\"")) {
      closed = false;
      welcome.complete(null);
    } else if (frame.startsWith("{\"type\":\"error\"")) {
      if (ERRORS.incrementAndGet() <= 5) System.err.println("[load] error frame to " + hostname + ": " + frame);
    }
  }

  @Override
  public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
    lost(w, new IllegalStateException("closed " + statusCode + " " + reason));
    return null;
  }

  @Override
  public void onError(WebSocket w, Throwable error) {
    lost(w, error);
  }

  private void lost(WebSocket w, Throwable why) {
    if (w != ws) return;
    closed = true;
    CLOSED.incrementAndGet();
    welcome.completeExceptionally(why);
    if (!nodes.isEmpty() && !leaving && reconnecting.compareAndSet(false, true)) reconnectLater();
  }
}
