package io.resticmanager.agent;

import io.resticmanager.agents.Frame;
import io.resticmanager.agents.Frame.Ack;
import io.resticmanager.agents.Frame.CommandRun;
import io.resticmanager.agents.Frame.ErrorFrame;
import io.resticmanager.agents.Frame.Heartbeat;
import io.resticmanager.agents.Frame.Hello;
import io.resticmanager.agents.Frame.JobProgress;
import io.resticmanager.agents.Frame.RepositoryStats;
import io.resticmanager.agents.Frame.Welcome;
import io.resticmanager.agents.WireCodec;
import io.resticmanager.agents.WireCodec.Decoded;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's connection to the server: opens the WebSocket with the agent token, says {@code hello},
 * sends {@code heartbeat} (and a WebSocket ping) at the interval {@code welcome} gives, (re)sends the
 * {@link Outbox} in order after every {@code welcome} and removes entries as their {@code ack} arrives,
 * hands {@code command.run} to its command consumer (the {@link JobQueue}), and reconnects after any
 * loss. Job events reach it from the {@link JobQueue} as {@link JobQueue.Events}.
 *
 * <p>The latest {@code repository.stats} is sent when it is collected and again after every
 * {@code welcome}; it is never acked nor stored. A server older than that frame answers it with an
 * {@code unknown_type} error: the client logs that once and sends no more statistics on that connection
 * (a later connection, perhaps to an upgraded node, tries once again).
 *
 * <p>Several server URLs (one per node) are tried in rounds: each round takes them in a new random
 * order, a URL that fails before {@code welcome} hands over to the next one at once, and only a round
 * in which every URL failed, or the loss of a welcomed connection, waits for {@link Backoff}. So a fleet
 * spreads over the nodes and moves off a lost node without a load balancer.
 *
 * <p>All state lives on one private thread; WebSocket callbacks and the job lane only post tasks to it.
 * Never sends a job event that is not in the outbox first (except when the outbox itself failed), never
 * sends anything before {@code hello}, never logs the agent token.
 */
public final class AgentClient implements JobQueue.Events, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentClient.class);
  /** Close code of a revoked token, a refused protocol version or a late hello. */
  public static final int CLOSE_POLICY = 1008;
  /** Close code when a newer connection of the same host replaced this one. */
  public static final int CLOSE_REPLACED = 4000;
  static final Duration WELCOME_TIMEOUT = Duration.ofSeconds(30);
  /** Inbound silence (no frame, no pong) longer than this many heartbeat intervals drops the connection. */
  static final int SILENT_INTERVALS = 3;

  private final HttpClient http;
  private final List<URI> urls;
  private final Random random;
  private final String agentToken;
  private final Hello hello;
  private final Outbox outbox;
  private final Consumer<CommandRun> commands;
  private final Backoff backoff;
  private final Duration connectTimeout;
  private final ScheduledExecutorService loop;

  // --- state, touched only on the loop thread
  /** The URLs of this round not tried yet; emptied by a {@code welcome}, so the next loss starts a new round. */
  private final List<URI> untried = new ArrayList<>();
  private URI url;
  private long generation;
  private WebSocket ws;
  private boolean welcomed;
  private long lastSentSeq;
  private long lastInboundNanos;
  private Duration heartbeatInterval = Duration.ofSeconds(30);
  private CompletableFuture<WebSocket> sendChain;
  private ScheduledFuture<?> timer;
  private boolean closing;
  /** The latest repository statistics, sent after every welcome; null until the first are collected. */
  private RepositoryStats latestStats;
  /** The server of this connection does not know {@code repository.stats}. */
  private boolean statsRefused;
  private boolean statsRefusalLogged;
  private volatile boolean connected;
  private volatile int connections;

  /**
   * @param urls the WebSocket URLs of the server's nodes, at least one
   * @param random orders the URLs of each round
   */
  public AgentClient(HttpClient http, List<URI> urls, Random random, String agentToken, Hello hello, Outbox outbox,
      Consumer<CommandRun> commands, Backoff backoff, Duration connectTimeout) {
    this.http = Objects.requireNonNull(http, "http");
    this.urls = List.copyOf(urls);
    if (this.urls.isEmpty()) throw new IllegalArgumentException("no URL");
    this.random = Objects.requireNonNull(random, "random");
    this.agentToken = Objects.requireNonNull(agentToken, "agentToken");
    this.hello = Objects.requireNonNull(hello, "hello");
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.commands = Objects.requireNonNull(commands, "commands");
    this.backoff = Objects.requireNonNull(backoff, "backoff");
    this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
    this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "agent-connection");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts connecting; returns at once. */
  public void start() {
    post(this::connect);
  }

  /** True while a connection is open and welcomed. */
  public boolean connected() {
    return connected;
  }

  /** How many connections got a {@code welcome} so far. */
  public int connections() {
    return connections;
  }

  // ---------------------------------------------------------------- JobQueue.Events

  @Override
  public void stored(Outbox.Entry entry) {
    post(this::pump);
  }

  @Override
  public void progress(JobProgress progress) {
    post(() -> {
      if (welcomed) send(WireCodec.encode(progress));
    });
  }

  @Override
  public void repositoryStats(RepositoryStats stats) {
    post(() -> {
      latestStats = stats;
      sendStats();
    });
  }

  private void sendStats() {
    if (welcomed && latestStats != null && !statsRefused) send(WireCodec.encode(latestStats));
  }

  @Override
  public void unstored(Frame.FromAgent frame) {
    post(() -> {
      if (welcomed) send(WireCodec.encode(frame));
      else log.error("Lost [{}]: neither stored nor connected", frame.type());
    });
  }

  // ---------------------------------------------------------------- connection lifecycle

  private void connect() {
    if (closing) return;
    long gen = ++generation;
    if (untried.isEmpty()) {
      untried.addAll(urls);
      Collections.shuffle(untried, random);
    }
    url = untried.remove(0);
    log.info("Connecting to [{}]", url);
    http.newWebSocketBuilder()
        .header("Authorization", "Bearer " + agentToken)
        .connectTimeout(connectTimeout)
        .buildAsync(url, new Listener(gen))
        .whenComplete((socket, err) -> {
          if (err != null) post(() -> connectFailed(gen, err));
        });
  }

  private void connectFailed(long gen, Throwable err) {
    if (gen != generation) return;
    Throwable cause = err;
    while (cause.getCause() != null && !(cause instanceof WebSocketHandshakeException)) cause = cause.getCause();
    if (cause instanceof WebSocketHandshakeException h) {
      int status = h.getResponse().statusCode();
      if (status == 401) {
        log.error("The server refused the agent token (401): the host was removed or the token revoked. "
            + "Retrying; to enroll again delete the agent-token file and set RM_ENROLLMENT_TOKEN");
      } else {
        log.warn("WebSocket upgrade refused with HTTP [{}]", status);
      }
    } else {
      log.warn("Cannot connect to [{}]: {}", url, ServerTrust.problem(err, url).orElse(cause.toString()));
    }
    lost(gen);
  }

  private void opened(long gen, WebSocket socket) {
    if (gen != generation || closing) {
      socket.abort();
      return;
    }
    ws = socket;
    welcomed = false;
    statsRefused = false;
    lastSentSeq = 0;
    lastInboundNanos = System.nanoTime();
    sendChain = CompletableFuture.completedFuture(socket);
    send(WireCodec.encode(hello));
    timer = loop.schedule(() -> {
      if (gen == generation && !welcomed) drop(gen, "no welcome within " + WELCOME_TIMEOUT.toSeconds() + " s");
    }, WELCOME_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void received(long gen, String text) {
    if (gen != generation) return;
    lastInboundNanos = System.nanoTime();
    Decoded d = WireCodec.decode(text);
    if (d instanceof Decoded.Bad bad) {
      log.warn("Ignoring a frame from the server that does not decode: [{}] {}", bad.code(), bad.message());
      return;
    }
    Frame f = ((Decoded.Ok) d).frame();
    if (f instanceof Welcome w) {
      onWelcome(gen, w);
    } else if (f instanceof Ack a) {
      int n = outbox.remove(a.of(), a.jobId());
      log.debug("Ack of [{}] for job [{}]: [{}] outbox entries removed", a.of(), a.jobId(), n);
    } else if (f instanceof ErrorFrame e && refusesStats(e)) {
      statsRefused = true;
      if (!statsRefusalLogged) {
        statsRefusalLogged = true;
        log.warn("The server does not know repository.stats (it is older than this agent): repository statistics "
            + "are not sent to it. Upgrade the server to see them");
      }
    } else if (f instanceof ErrorFrame e) {
      log.warn("The server refused a frame: [{}] {} (job [{}])", e.code(), e.message(),
          e.jobId().map(Object::toString).orElse("-"));
    } else if (f instanceof CommandRun c) {
      log.info("The server asks for a {} now (job [{}])", c.kind().wire(), c.jobId());
      try {
        commands.accept(c);
      } catch (RuntimeException ex) {
        log.error("Cannot queue job [{}]", c.jobId(), ex);
      }
    } else {
      log.warn("Ignoring a [{}] frame: the server should not send it", f.type());
    }
  }

  private void onWelcome(long gen, Welcome w) {
    if (welcomed) {
      log.debug("Ignoring a repeated welcome");
      return;
    }
    welcomed = true;
    connected = true;
    connections++;
    untried.clear();
    backoff.reset();
    heartbeatInterval = Duration.ofSeconds(Math.max(1, w.heartbeatIntervalSeconds()));
    log.info("Connected as host [{}] (server [{}], heartbeat every [{}] s); [{}] unacked event(s) to send",
        w.hostId(), w.serverVersion(), heartbeatInterval.toSeconds(), outbox.size());
    if (timer != null) timer.cancel(false);
    long every = heartbeatInterval.toMillis();
    timer = loop.scheduleAtFixedRate(() -> tick(gen), every, every, TimeUnit.MILLISECONDS);
    pump();
    sendStats();
  }

  /** An older server's answer to {@code repository.stats}, the only frame type it may not know. */
  private static boolean refusesStats(ErrorFrame e) {
    return e.code().equals(ErrorFrame.UNKNOWN_TYPE) && e.message().contains(RepositoryStats.TYPE);
  }

  private void tick(long gen) {
    if (gen != generation || ws == null) return;
    long silent = System.nanoTime() - lastInboundNanos;
    long limit = heartbeatInterval.toNanos() * SILENT_INTERVALS;
    if (silent > limit) {
      drop(gen, "no frame or pong from the server for " + TimeUnit.NANOSECONDS.toSeconds(silent) + " s");
      return;
    }
    send(WireCodec.encode(new Heartbeat()));
    sendChain = sendChain.thenCompose(s -> s.sendPing(ByteBuffer.allocate(0)));
    watch(gen, sendChain);
  }

  /** Sends every stored event not yet sent on this connection, in order. */
  private void pump() {
    if (!welcomed || ws == null) return;
    for (Outbox.Entry e : outbox.after(lastSentSeq)) {
      send(WireCodec.encode(e.frame()));
      lastSentSeq = e.seq();
    }
  }

  private void send(String text) {
    if (ws == null) return;
    long gen = generation;
    sendChain = sendChain.thenCompose(s -> s.sendText(text, true));
    watch(gen, sendChain);
  }

  private void watch(long gen, CompletableFuture<WebSocket> f) {
    f.whenComplete((s, err) -> {
      if (err != null) post(() -> drop(gen, "send failed: " + err));
    });
  }

  /** Gives up on the current connection and schedules the next attempt. */
  private void drop(long gen, String why) {
    if (gen != generation) return;
    log.warn("Dropping the connection: {}", why);
    if (ws != null) ws.abort();
    lost(gen);
  }

  private void closed(long gen, int code, String reason) {
    if (gen != generation) return;
    if (code == CLOSE_POLICY) {
      log.error("The server closed the connection with 1008 (policy: token revoked, protocol refused, or hello "
          + "late): [{}]. Retrying with backoff", reason);
    } else if (code == CLOSE_REPLACED) {
      log.warn("The server closed the connection with 4000: a newer connection of this host replaced it. "
          + "Is a second agent running under the same host name?");
    } else {
      log.info("The server closed the connection: [{}] [{}]", code, reason);
    }
    lost(gen);
  }

  private void failed(long gen, Throwable err) {
    if (gen != generation) return;
    log.warn("The connection failed: {}", err.toString());
    lost(gen);
  }

  /**
   * The connection of {@code gen} is gone: forget it and connect to the round's next URL at once, or,
   * when none is left, start a new round after a backoff delay.
   */
  private void lost(long gen) {
    if (gen != generation) return;
    generation++;
    if (timer != null) timer.cancel(false);
    timer = null;
    ws = null;
    welcomed = false;
    connected = false;
    if (closing) return;
    if (!untried.isEmpty()) {
      post(this::connect);
      return;
    }
    Duration d = backoff.next();
    log.info("Reconnecting in [{}] ms (attempt [{}])", d.toMillis(), backoff.attempts());
    timer = loop.schedule(this::connect, d.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Closes the connection with 1000 and stops; pending events stay in the outbox for the next start. */
  @Override
  public void close() {
    if (loop.isShutdown()) return;
    CompletableFuture<Void> done = new CompletableFuture<>();
    post(() -> {
      closing = true;
      if (timer != null) timer.cancel(false);
      WebSocket socket = ws;
      generation++;
      ws = null;
      welcomed = false;
      connected = false;
      if (socket == null) {
        done.complete(null);
        return;
      }
      sendChain.thenCompose(s -> s.sendClose(WebSocket.NORMAL_CLOSURE, "agent stopping"))
          .orTimeout(2, TimeUnit.SECONDS)
          .whenComplete((s, err) -> {
            socket.abort();
            done.complete(null);
          });
    });
    try {
      done.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.debug("Closing the connection did not finish cleanly", e);
    }
    loop.shutdownNow();
  }

  private void post(Runnable r) {
    try {
      loop.execute(() -> {
        try {
          r.run();
        } catch (RuntimeException e) {
          log.error("Connection task failed", e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("Connection loop stopped; task dropped");
    }
  }

  /** Reassembles text messages and posts every event to the loop thread. */
  private final class Listener implements WebSocket.Listener {
    private final long gen;
    private final StringBuilder partial = new StringBuilder();

    Listener(long gen) {
      this.gen = gen;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
      post(() -> opened(gen, webSocket));
      webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (partial.length() > WireCodec.MAX_FRAME_CHARS) {
        partial.setLength(0);
        post(() -> drop(gen, "a server frame is larger than " + WireCodec.MAX_FRAME_CHARS + " chars"));
        return null;
      }
      if (last) {
        String text = partial.toString();
        partial.setLength(0);
        post(() -> received(gen, text));
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
      post(() -> {
        if (gen == generation) lastInboundNanos = System.nanoTime();
      });
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
      post(() -> {
        if (gen == generation) lastInboundNanos = System.nanoTime();
      });
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      post(() -> closed(gen, statusCode, reason));
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      post(() -> failed(gen, error));
    }
  }
}
