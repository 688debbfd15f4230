package io.resticmanager.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A scripted agent that streams job events on its own thread the way the real agent's outbox does:
 * every {@code job.started} / {@code job.finished} is put in an in-memory outbox before it is sent and
 * leaves it only when the server acks it; after any disconnect it reconnects, says hello and resends the
 * whole outbox in order before anything new. New jobs (seeded random kind, status and duration) are sent
 * without waiting for acks, up to {@code window} unacked events.
 *
 * <p>The test steers it: {@link #gate} (may it connect at all), {@link #pause} (no new jobs; resends still
 * go out), and reads what it saw: acked events, close codes, error frames, every job it sent. Its loop
 * ends on {@link #close()} or after {@link #MAX_LIFE} at the latest.
 */
public final class StreamingAgent implements AutoCloseable {
  private static final Duration MAX_LIFE = Duration.ofMinutes(30);
  private static final Duration IO = Duration.ofSeconds(5);
  private static final String[] KINDS = {"backup", "backup", "backup", "check", "forget", "prune", "restore"};
  /**
   * Jobs start a minute apart from here: a month ago, so within the server's default job retention (90 days)
   * and older than its backup-max-age. A fixed date would age past the retention and have the server's
   * pruner delete acked jobs during a test (as it did once: a rolling restart outlived the pruner's first
   * sweep 30 s after it moved).
   */
  private static final Instant T0 = Instant.now().minus(Duration.ofDays(30)).truncatedTo(ChronoUnit.SECONDS);

  /** A job this agent sent; {@code status} is what its finish said. */
  public record SentJob(UUID id, String kind, String status) {}

  private final String hostname;
  private final String token;
  private final Supplier<URI> uri;
  private final int window;
  private final Random random;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Object lock = new Object();
  /** Sent and not yet acked, in the order sent; key is "of job_id". Guarded by lock. */
  private final LinkedHashMap<String, String> outbox = new LinkedHashMap<>();
  /** Guarded by lock. */
  private final Set<String> acked = new HashSet<>();
  /** Every job in the order its events were first sent. Guarded by lock. */
  private final List<SentJob> sent = new ArrayList<>();
  private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
  private final List<Integer> closeCodes = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong acks = new AtomicLong();
  private final AtomicLong welcomes = new AtomicLong();
  private final Thread thread;
  private volatile boolean gate;
  /** 0: no heartbeats; else a heartbeat goes out when nothing was sent for this long. */
  private volatile long heartbeatNanos;
  /** 0: new jobs as fast as the window allows; else at most one new job this often. */
  private volatile long jobNanos;
  private volatile boolean paused;
  private volatile boolean stopped;
  private volatile boolean connected;
  private volatile WebSocket current;

  public StreamingAgent(String hostname, String token, Supplier<URI> uri, int window, long seed) {
    this.hostname = hostname;
    this.token = token;
    this.uri = uri;
    this.window = window;
    this.random = new Random(seed);
    this.thread = new Thread(this::run, "streaming-agent-" + hostname);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Sends a heartbeat whenever nothing else was sent for {@code every}, as the real agent does. */
  public StreamingAgent heartbeatEvery(Duration every) {
    heartbeatNanos = every.toNanos();
    return this;
  }

  /** Starts at most one new job every {@code every} (resends are not held back). */
  public StreamingAgent jobEvery(Duration every) {
    jobNanos = every.toNanos();
    return this;
  }

  public String hostname() {
    return hostname;
  }

  /** Whether the agent may connect; closing the gate ends its session after the current send. */
  public void gate(boolean open) {
    gate = open;
    wake();
  }

  /** Paused: no new jobs, but a reconnect still resends the outbox. */
  public void pause(boolean p) {
    paused = p;
    wake();
  }

  public boolean isConnected() {
    return connected;
  }

  public int outboxSize() {
    synchronized (lock) {
      return outbox.size();
    }
  }

  /** Acks received, repeats included. */
  public long acks() {
    return acks.get();
  }

  /** Welcomes received, one per successful connection. */
  public long welcomes() {
    return welcomes.get();
  }

  /** Every acked event as "job.started UUID" / "job.finished UUID". */
  public Set<String> ackedEvents() {
    synchronized (lock) {
      return Set.copyOf(acked);
    }
  }

  /**
   * Checks a host's rows of the jobs API against what this agent sent: every acked event is stored (a
   * finish as finished), every sent job is listed once, with the status its finish said. {@code at}
   * prefixes the messages.
   */
  public void checkStored(List<Map<String, Object>> rows, String at) {
    Map<String, String> status = new HashMap<>();
    for (Map<String, Object> j : rows) {
      assertTrue(status.put(Json.str(j, "id"), Json.str(j, "status")) == null, at + "job " + j.get("id") + " listed twice");
    }
    for (String event : ackedEvents()) {
      String id = event.substring(event.indexOf(' ') + 1);
      assertTrue(status.containsKey(id), at + "acked " + event + " is not stored");
      if (event.startsWith("job.finished")) {
        assertFalse("running".equals(status.get(id)), at + "acked " + event + " is stored unfinished");
      }
    }
    List<SentJob> jobs = sentJobs();
    assertEquals(jobs.size(), rows.size(), at + "one row per job of " + hostname);
    for (SentJob j : jobs) assertEquals(j.status(), status.get(j.id().toString()), at + "status of " + j.id());
  }

  public List<SentJob> sentJobs() {
    synchronized (lock) {
      return List.copyOf(sent);
    }
  }

  public List<String> errors() {
    return List.copyOf(errors);
  }

  public List<Integer> closeCodes() {
    return List.copyOf(closeCodes);
  }

  /** Aborts the current socket at once, as a crashing network would. */
  public void abortConnection() {
    WebSocket ws = current;
    if (ws != null) ws.abort();
  }

  @Override
  public void close() {
    stopped = true;
    wake();
    abortConnection();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void wake() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  /** Waits for a change of state (ack, gate, pause, stop), at most {@code millis}. */
  private void idle(long millis) {
    synchronized (lock) {
      try {
        lock.wait(millis);
      } catch (InterruptedException e) {
        stopped = true;
      }
    }
  }

  private void run() {
    long end = System.nanoTime() + MAX_LIFE.toNanos();
    while (!stopped && System.nanoTime() < end) {
      if (!gate) {
        idle(50);
        continue;
      }
      Session s = new Session();
      WebSocket ws;
      try {
        ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + token).connectTimeout(IO)
            .buildAsync(uri.get(), s).get(IO.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        idle(100); // the server is down or restarting: try again shortly
        continue;
      }
      current = ws;
      try {
        stream(ws, s);
      } catch (Exception e) {
        // the connection ended (server killed, closed, or the gate shut): reconnect and resend
      } finally {
        connected = false;
        current = null;
        ws.abort();
      }
    }
  }

  private void stream(WebSocket ws, Session s) throws Exception {
    send(ws, TestAgent.hello(hostname));
    s.welcome.get(IO.toMillis(), TimeUnit.MILLISECONDS);
    welcomes.incrementAndGet();
    connected = true;
    List<String> resend;
    synchronized (lock) {
      resend = new ArrayList<>(outbox.values());
    }
    for (String frame : resend) send(ws, frame);
    long lastSent = System.nanoTime();
    long lastJob = 0;
    while (!stopped && gate && !s.closed.isDone()) {
      String[] job;
      synchronized (lock) {
        if (paused || outbox.size() + 2 > window || (jobNanos > 0 && System.nanoTime() - lastJob < jobNanos)) {
          lock.wait(20);
          job = null;
        } else {
          job = nextJob();
        }
      }
      if (job != null) {
        send(ws, job[0]);
        send(ws, job[1]);
        lastSent = System.nanoTime();
        lastJob = lastSent;
      } else if (heartbeatNanos > 0 && System.nanoTime() - lastSent >= heartbeatNanos) {
        send(ws, "{\"type\":\"heartbeat\"}");
        lastSent = System.nanoTime();
      }
    }
  }

  /** Puts a new job's two events in the outbox (before they are sent, so no ack can come first). */
  private String[] nextJob() {
    UUID id = UUID.randomUUID();
    String kind = KINDS[random.nextInt(KINDS.length)];
    int r = random.nextInt(100);
    String status = r < 60 ? "succeeded" : r < 75 ? "failed" : r < 90 ? "warning" : "cancelled";
    Instant start = T0.plusSeconds(60L * sent.size());
    Instant end = start.plusMillis(random.nextInt(7_200_000));
    int exit = status.equals("succeeded") ? 0 : status.equals("warning") ? 3 : 1;
    String started = TestAgent.started(id, kind, start);
    String finished = TestAgent.finished(id, status, end, exit, random.nextInt(1 << 20));
    outbox.put("job.started " + id, started);
    outbox.put("job.finished " + id, finished);
    sent.add(new SentJob(id, kind, status));
    return new String[] {started, finished};
  }

  private static void send(WebSocket ws, String frame) throws Exception {
    ws.sendText(frame, true).get(IO.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void onMessage(String text, Session s) {
    Map<String, Object> m = Json.object(text);
    Object type = m.get("type");
    if ("ack".equals(type)) {
      String key = m.get("of") + " " + m.get("job_id");
      synchronized (lock) {
        outbox.remove(key);
        acked.add(key);
        lock.notifyAll();
      }
      acks.incrementAndGet();
    } else if ("welcome".equals(type)) {
      s.welcome.complete(null);
    } else if ("error".equals(type)) {
      errors.add(text);
    }
  }

  /** One connection's listener. */
  private final class Session implements WebSocket.Listener {
    final CompletableFuture<Void> welcome = new CompletableFuture<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        onMessage(partial.toString(), this);
        partial.setLength(0);
      }
      w.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
      closeCodes.add(statusCode);
      closed.complete(statusCode);
      wake();
      return null;
    }

    @Override
    public void onError(WebSocket w, Throwable error) {
      closed.complete(-1);
      welcome.completeExceptionally(error);
      wake();
    }
  }
}
