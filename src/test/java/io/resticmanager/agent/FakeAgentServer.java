package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.resticmanager.agents.Frame;
import io.resticmanager.agents.WireCodec;
import io.resticmanager.agents.WireCodec.Decoded;
import io.resticmanager.support.TestCerts;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.SourceQueueWithComplete;

/**
 * A stand-in for the server's agent endpoint in tests: Pekko HTTP on 127.0.0.1, route
 * {@code /api/v1/agents/ws}, checking the bearer token, and handing each accepted connection to the
 * test as a {@link Conn} whose received frames it can take and whose outgoing side it drives. It
 * answers nothing by itself; the test decides every welcome and ack. Given an {@link SSLContext}
 * (see {@link #tls}) it speaks HTTPS and WSS instead.
 */
final class FakeAgentServer implements AutoCloseable {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final ActorSystem system;
  private final Materializer mat;
  private final String token;
  private final SSLContext tls;
  private final BlockingQueue<Conn> connections = new LinkedBlockingQueue<>();
  /** How many upgrade attempts to refuse with 401 before accepting. */
  final AtomicInteger refuseNext = new AtomicInteger();
  final AtomicInteger refused = new AtomicInteger();
  /** Status and JSON body answered to {@code POST /api/v1/agents/enroll}. */
  volatile int enrollStatus = 201;
  volatile String enrollBody = "{\"host_id\":\"7\",\"agent_token\":\"" + "%TOKEN%" + "\"}";
  final BlockingQueue<String> enrollRequests = new LinkedBlockingQueue<>();
  private ServerBinding binding;

  /** One accepted WebSocket. */
  final class Conn {
    final BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
    private final SourceQueueWithComplete<Message> out;

    Conn(SourceQueueWithComplete<Message> out) {
      this.out = out;
    }

    /** The next frame the agent sent, waiting up to 20 s. */
    Frame next() throws InterruptedException {
      Frame f = received.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertNotNull(f, "no frame from the agent within " + WAIT);
      return f;
    }

    /** The next frame that is not a heartbeat or progress. */
    Frame nextEvent() throws InterruptedException {
      while (true) {
        Frame f = next();
        if (!(f instanceof Frame.Heartbeat) && !(f instanceof Frame.JobProgress)) return f;
      }
    }

    void send(Frame f) {
      out.offer(TextMessage.create(WireCodec.encode(f)));
    }

    /** Ends the connection from the server side (a close frame). */
    void drop() {
      out.complete();
    }
  }

  FakeAgentServer(String token) {
    this(token, null);
  }

  /** With {@code tls} not null: HTTPS and WSS with that context's key and certificate chain. */
  FakeAgentServer(String token, SSLContext tls) {
    this.tls = tls;
    this.system = ActorSystem.create("fake-server-" + System.nanoTime(),
        com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING"));
    this.mat = Materializer.matFromSystem(system);
    this.token = token;
  }

  /** Binds on {@code port} (0 = any free one); returns the port. */
  int start(int port) throws Exception {
    ServerBuilder builder = Http.get(system).newServerAt("127.0.0.1", port);
    if (tls != null) builder = builder.enableHttps(ConnectionContext.httpsServer(tls));
    binding = builder.bind(route()).toCompletableFuture().get(20, TimeUnit.SECONDS);
    return binding.localAddress().getPort();
  }

  /** The bound port. */
  int port() {
    return binding.localAddress().getPort();
  }

  /** Takes the next accepted connection, waiting up to 20 s. */
  Conn accept() throws InterruptedException {
    Conn c = connections.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    if (c == null) fail("the agent did not connect within " + WAIT);
    return c;
  }

  /** The next accepted connection if there is one, without waiting. */
  Conn tryAccept() {
    return connections.poll();
  }

  private Route route() {
    Route enroll = Directives.path(PathMatchers.segment("api").slash("v1").slash("agents").slash("enroll"), () ->
        Directives.post(() -> Directives.entity(org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller.entityToString(), body -> {
          enrollRequests.add(body);
          return Directives.complete(org.apache.pekko.http.javadsl.model.HttpResponse.create()
              .withStatus(enrollStatus)
              .withEntity(org.apache.pekko.http.javadsl.model.ContentTypes.APPLICATION_JSON,
                  enrollBody.replace("%TOKEN%", token)));
        })));
    return Directives.concat(enroll, ws());
  }

  private Route ws() {
    return Directives.path(PathMatchers.segment("api").slash("v1").slash("agents").slash("ws"), () ->
        Directives.optionalHeaderValueByName("Authorization", auth -> {
          if (!auth.equals(Optional.of("Bearer " + token)) || refuseNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            refused.incrementAndGet();
            return Directives.complete(StatusCodes.UNAUTHORIZED);
          }
          return Directives.handleWebSocketMessages(flow());
        }));
  }

  private Flow<Message, Message, NotUsed> flow() {
    Pair<SourceQueueWithComplete<Message>, Source<Message, NotUsed>> out =
        Source.<Message>queue(256, OverflowStrategy.fail()).preMaterialize(mat);
    Conn conn = new Conn(out.first());
    Sink<Message, CompletionStage<org.apache.pekko.Done>> in = Flow.<Message>create()
        .mapAsync(1, m -> m.isText()
            ? m.asTextMessage().getStreamedText().runFold("", String::concat, mat)
            : m.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), mat).thenApply(d -> ""))
        .toMat(Sink.foreach(text -> {
          if (text.isEmpty()) return;
          if (WireCodec.decode(text) instanceof Decoded.Ok ok) conn.received.add(ok.frame());
          else fail("the agent sent a frame that does not decode: " + text);
        }), org.apache.pekko.stream.javadsl.Keep.right());
    connections.add(conn);
    return Flow.fromSinkAndSourceCoupled(in, out.second());
  }

  /** A server context presenting {@code pair}'s certificate chain with its PKCS#8 key. */
  static SSLContext tls(TestCerts.Pair pair, TestCerts.Alg alg) throws Exception {
    List<Certificate> chain = new ArrayList<>();
    try (InputStream in = Files.newInputStream(pair.cert())) {
      chain.addAll(CertificateFactory.getInstance("X.509").generateCertificates(in));
    }
    byte[] der = Base64.getMimeDecoder().decode(Files.readString(pair.key()).replaceAll("-----[A-Z ]+-----", ""));
    PrivateKey key = KeyFactory.getInstance(alg.name()).generatePrivate(new PKCS8EncodedKeySpec(der));
    char[] pass = "fake".toCharArray();
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("server", key, pass, chain.toArray(Certificate[]::new));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, pass);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    return ctx;
  }

  /**
   * Unbinds, so new connections are refused. Upgraded WebSockets outlive it (Pekko HTTP's
   * {@code terminate} does not end them): {@link Conn#drop()} or {@link #close()} does.
   */
  void stop() throws Exception {
    if (binding != null) {
      binding.terminate(Duration.ofSeconds(1)).toCompletableFuture().get(20, TimeUnit.SECONDS);
      binding = null;
    }
  }

  @Override
  public void close() {
    try {
      try {
        stop();
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping the fake server", e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop the fake server", e);
    }
  }
}
