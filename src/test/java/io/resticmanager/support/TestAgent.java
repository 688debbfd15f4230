package io.resticmanager.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;

/**
 * A scripted agent for tests: a JDK WebSocket that sends raw JSON frames and records every text frame
 * and the close code the server sends. Speaks no protocol by itself beyond the helpers below.
 */
public final class TestAgent implements AutoCloseable {
  private final WebSocket ws;
  private final BlockingQueue<String> frames = new LinkedBlockingQueue<>();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();

  private TestAgent(HttpClient client, URI uri, String token) throws Exception {
    WebSocket.Listener listener = new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          frames.add(partial.toString());
          partial.setLength(0);
        }
        w.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
      }

      @Override
      public void onError(WebSocket w, Throwable error) {
        closed.complete(-1);
      }
    };
    this.ws = client.newWebSocketBuilder()
        .header("Authorization", "Bearer " + token)
        .connectTimeout(Duration.ofSeconds(10))
        .buildAsync(uri, listener).get(20, TimeUnit.SECONDS);
  }

  public static TestAgent connect(URI uri, String token) throws Exception {
    return new TestAgent(HttpClient.newHttpClient(), uri, token);
  }

  /** Over {@code wss://}, trusting what {@code tls} trusts; {@code tls} null: as {@link #connect(URI, String)}. */
  public static TestAgent connect(URI uri, String token, SSLContext tls) throws Exception {
    if (tls == null) return connect(uri, token);
    return new TestAgent(HttpClient.newBuilder().sslContext(tls).build(), uri, token);
  }

  /** Connects and completes the hello/welcome exchange. */
  public static TestAgent connectAndHello(URI uri, String token, String hostname) throws Exception {
    return greeted(connect(uri, token), hostname);
  }

  /** As {@link #connect(URI, String, SSLContext)}, and completes the hello/welcome exchange. */
  public static TestAgent connectAndHello(URI uri, String token, String hostname, SSLContext tls) throws Exception {
    return greeted(connect(uri, token, tls), hostname);
  }

  private static TestAgent greeted(TestAgent a, String hostname) throws InterruptedException {
    a.send(hello(hostname));
    a.awaitFrame(f -> f.contains("\"welcome\""), Duration.ofSeconds(10));
    return a;
  }

  public void send(String json) {
    ws.sendText(json, true).join();
  }

  public WebSocket socket() {
    return ws;
  }

  /** The next frame matching {@code p} within {@code timeout}; frames before it are dropped. */
  public String awaitFrame(Predicate<String> p, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) throw new AssertionError("no matching frame within " + timeout);
      String f = frames.poll(left, TimeUnit.NANOSECONDS);
      if (f != null && p.test(f)) return f;
    }
  }

  /** The next frame, or null when none arrives within {@code timeout}. */
  public String nextFrame(Duration timeout) throws InterruptedException {
    return frames.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** The close code the server sent, waiting up to {@code timeout}. */
  public int awaitClose(Duration timeout) throws Exception {
    return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  public static String hello(String hostname) {
    return "{\"type\":\"hello\",\"protocol_version\":1,\"agent_version\":\"test-1.0\",\"restic_version\":\"0.16.4\","
        + "\"hostname\":\"" + hostname + "\",\"os\":\"linux\"}";
  }

  public static String started(UUID job, String kind, Instant at) {
    return "{\"type\":\"job.started\",\"job_id\":\"" + job + "\",\"kind\":\"" + kind + "\",\"started_at\":\"" + at + "\"}";
  }

  public static String finished(UUID job, String status, Instant at, int exit, long dataAdded) {
    return "{\"type\":\"job.finished\",\"job_id\":\"" + job + "\",\"status\":\"" + status + "\",\"finished_at\":\""
        + at + "\",\"exit_code\":" + exit + ",\"summary\":{\"files_new\":1,\"files_changed\":0,\"files_unmodified\":3,"
        + "\"data_added\":" + dataAdded + ",\"total_files_processed\":4,\"total_bytes_processed\":4096,"
        + "\"total_duration\":1.5,\"snapshot_id\":\"abcdef12\"}}";
  }

  /** A {@code repository.stats} frame; {@code uncompressed} null leaves that field out. */
  public static String repositoryStats(Instant at, long snapshots, long size, Long uncompressed) {
    String optional = uncompressed == null ? "" : ",\"total_uncompressed_size_bytes\":" + uncompressed;
    return "{\"type\":\"repository.stats\",\"collected_at\":\"" + at + "\",\"snapshot_count\":" + snapshots
        + ",\"total_size_bytes\":" + size + optional + "}";
  }

  /** Sends a started + finished pair and waits for both acks. */
  public void runJob(UUID job, String kind, String status, Instant start, Instant end, long dataAdded)
      throws InterruptedException {
    send(started(job, kind, start));
    awaitFrame(f -> f.contains("\"ack\"") && f.contains(job.toString()) && f.contains("job.started"), Duration.ofSeconds(20));
    send(finished(job, status, end, status.equals("failed") ? 1 : 0, dataAdded));
    awaitFrame(f -> f.contains("\"ack\"") && f.contains(job.toString()) && f.contains("job.finished"), Duration.ofSeconds(20));
  }

  @Override
  public void close() {
    if (!closed.isDone()) ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
    ws.abort();
  }
}
