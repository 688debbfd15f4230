package io.resticmanager.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.BuildInfo;
import io.resticmanager.config.Settings;
import io.resticmanager.fleet.HostView;
import io.resticmanager.fleet.NodeHosts;
import io.resticmanager.metrics.HostSample;
import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.JobStatus;
import io.resticmanager.jobs.JobTracker;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.metrics.MetricsTextWriter;
import io.resticmanager.metrics.OpenMetricsTextWriter;
import io.resticmanager.metrics.PrometheusTextWriter;
import io.resticmanager.metrics.ServerMetrics;
import io.resticmanager.store.AlertStore;
import io.resticmanager.store.Database;
import io.resticmanager.store.HostRow;
import io.resticmanager.store.HostStore;
import io.resticmanager.store.JobStore;
import io.resticmanager.support.Await;
import io.resticmanager.support.TestDatabases;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MetricsRoutes} against a real node view ({@link NodeHosts}) of 2,000 hosts (a body of several chunks) and a real
 * {@link JobTracker}: the streamed body is byte for byte what {@link MetricsTextWriter#toBytes} renders, and
 * a scrape keeps its place in the bound until its body has ended, however it ends. The route is driven
 * through its handler function, so each test decides when and how far a body is read; HEAD and gzip go
 * through a real server, since Pekko's server is what cancels a HEAD's body and frames the gzip.
 */
class MetricsRoutesStreamingTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final String TOKEN = "streaming-test-metrics-token";
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final int HOSTS = 2_000;

  @TempDir static Path dir;
  private static Database db;
  private static ActorRef<JobTracker.Command> tracker;
  private static ActorRef<NodeHosts.Command> view;

  @BeforeAll
  static void start() {
    db = TestDatabases.open(TestDatabases.sqlite(dir));
    long t0 = 1_764_000_000_000L;
    tracker = testKit.spawn(JobTracker.create());
    tracker.tell(new JobTracker.RecordJobFinished(JobKind.BACKUP, JobStatus.SUCCEEDED, Duration.ofSeconds(42)));
    view = testKit.spawn(NodeHosts.create(new HostStore(db)));
    for (int i = 0; i < HOSTS; i++) {
      String id = UUID.randomUUID().toString();
      String name = "hôte-" + i;
      view.tell(new NodeHosts.Put(new HostView(id, name, false, t0 + i, "agent-1", "0.17.0", "linux", t0),
          new HostSample(name, false, t0 + i, Map.of(JobKind.BACKUP, t0 + 1_000 * i + 123), Map.of(), -1, 0,
              "agent-1", "0.17.0", "linux"), Set.of()));
    }
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    db.close();
  }

  private static MetricsRoutes routes(int maxInFlight, Duration unsentGrace) {
    return new MetricsRoutes(new ScrapeGuard.ScrapePolicy(Optional.of(TOKEN), Optional.empty(), List.of(), List.of()),
        new ScrapeDirectives(), tracker, MetricsRoutesStreamingTest::sample, null, WAIT, testKit.system().scheduler(),
        maxInFlight, unsentGrace);
  }

  private static CompletionStage<FleetSample> sample() {
    return AskPattern.ask(view, NodeHosts.GetSample::new, WAIT, testKit.system().scheduler());
  }

  private static Function<HttpRequest, CompletionStage<HttpResponse>> handler(MetricsRoutes routes) {
    return routes.route().handler(testKit.system());
  }

  private static HttpRequest get() {
    return HttpRequest.GET("/metrics").addHeader(RawHeader.create("Authorization", "Bearer " + TOKEN));
  }

  private static HttpResponse scrape(Function<HttpRequest, CompletionStage<HttpResponse>> handler, HttpRequest r)
      throws Exception {
    return handler.apply(r).toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static List<ByteString> chunks(HttpEntity entity) throws Exception {
    return entity.getDataBytes().runWith(Sink.seq(), testKit.system()).toCompletableFuture()
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static byte[] concat(List<ByteString> chunks) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    chunks.forEach(c -> out.writeBytes(c.toArray()));
    return out.toByteArray();
  }

  /** What toBytes renders from the snapshots the actors give now (nothing changes them in these tests). */
  private static byte[] expected(MetricsTextWriter writer) throws Exception {
    JobDurations jobs = AskPattern.<JobTracker.Command, JobDurations>ask(tracker, JobTracker.GetSnapshot::new, WAIT,
        testKit.system().scheduler()).toCompletableFuture().get();
    FleetSample sample = sample().toCompletableFuture().get();
    return writer.toBytes(ServerMetrics.build(jobs, sample, BuildInfo.current()));
  }

  /** Scrapes until one is admitted (the bound frees asynchronously), reads its body and returns its status. */
  private static void awaitAdmitted(Function<HttpRequest, CompletionStage<HttpResponse>> handler) throws Exception {
    HttpResponse admitted = Await.until(WAIT, () -> {
      HttpResponse r = scrape(handler, get());
      if (r.status().intValue() != 200) r.discardEntityBytes(testKit.system());
      return r;
    }, r -> r.status().intValue() == 200);
    chunks(admitted.entity());
  }

  @Test
  void theBodyIsStreamedInPartsThatAddUpToToBytesAndItsContentLengthInBothFormats() throws Exception {
    Function<HttpRequest, CompletionStage<HttpResponse>> handler = handler(routes(8, Duration.ofHours(1)));
    HttpResponse text = scrape(handler, get());
    HttpResponse open = scrape(handler, get().addHeader(RawHeader.create("Accept", "application/openmetrics-text")));

    for (HttpResponse r : List.of(text, open)) {
      assertEquals(200, r.status().intValue());
      assertFalse(r.entity().isChunked(), "a streamed entity of known length, not " + r.entity().getClass());
    }
    assertEquals(PrometheusTextWriter.CONTENT_TYPE, text.entity().getContentType().toString());
    assertEquals(OpenMetricsTextWriter.CONTENT_TYPE, open.entity().getContentType().toString());
    List<ByteString> textChunks = chunks(text.entity());
    assertTrue(textChunks.size() > 1, "several parts, not " + textChunks.size());
    for (ByteString chunk : textChunks.subList(0, textChunks.size() - 1)) {
      assertTrue(chunk.size() >= MetricsRoutes.CHUNK_BYTES, "a part of " + chunk.size() + " bytes");
    }
    byte[] textBody = expected(PrometheusTextWriter.INSTANCE);
    byte[] openBody = expected(OpenMetricsTextWriter.INSTANCE);
    assertArrayEquals(textBody, concat(textChunks));
    assertArrayEquals(openBody, concat(chunks(open.entity())));
    assertEquals(textBody.length, text.entity().getContentLengthOption().getAsLong());
    assertEquals(openBody.length, open.entity().getContentLengthOption().getAsLong());
  }

  @Test
  void aScrapeKeepsItsPlaceUntilItsBodyHasBeenReadToTheEnd() throws Exception {
    Function<HttpRequest, CompletionStage<HttpResponse>> handler = handler(routes(1, Duration.ofHours(1)));
    HttpResponse first = scrape(handler, get());
    assertEquals(200, first.status().intValue());

    HttpResponse refused = scrape(handler, get());
    assertEquals(503, refused.status().intValue(), "the first body is not read yet");
    refused.discardEntityBytes(testKit.system());

    assertArrayEquals(expected(PrometheusTextWriter.INSTANCE), concat(chunks(first.entity())));
    awaitAdmitted(handler);
  }

  @Test
  void aScrapeWhoseBodyIsCancelledGivesItsPlaceBack() throws Exception {
    Function<HttpRequest, CompletionStage<HttpResponse>> handler = handler(routes(1, Duration.ofHours(1)));
    HttpResponse first = scrape(handler, get());
    List<ByteString> one = first.entity().getDataBytes().take(1).runWith(Sink.seq(), testKit.system())
        .toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(1, one.size());

    awaitAdmitted(handler);
  }

  @Test
  void aResponseWhoseBodyNeverStartsGivesItsPlaceBackAfterTheGrace() throws Exception {
    Function<HttpRequest, CompletionStage<HttpResponse>> handler = handler(routes(1, Duration.ofMillis(300)));
    HttpResponse dropped = scrape(handler, get());
    assertEquals(200, dropped.status().intValue());
    assertEquals(503, scrape(handler, get()).status().intValue());

    awaitAdmitted(handler);
  }

  @Test
  void throughARealServerAHeadReadsNothingAndGivesItsPlaceBackAndGzipInflatesToToBytes() throws Exception {
    ServerBinding binding = Http.get(testKit.system()).newServerAt("127.0.0.1", 0)
        .bind(routes(1, Duration.ofHours(1)).route()).toCompletableFuture().get();
    try {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      URI uri = URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/metrics");
      java.net.http.HttpResponse<byte[]> head = client.send(java.net.http.HttpRequest.newBuilder(uri)
          .header("Authorization", "Bearer " + TOKEN).method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody())
          .build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, head.statusCode());
      assertEquals(PrometheusTextWriter.CONTENT_TYPE, head.headers().firstValue("Content-Type").orElse(""));
      assertEquals(String.valueOf(expected(PrometheusTextWriter.INSTANCE).length),
          head.headers().firstValue("Content-Length").orElse(""), "HEAD names the length GET would send");
      assertEquals(0, head.body().length);

      // The HEAD's place is free again (at most one in flight), and a gzipped body inflates to toBytes.
      java.net.http.HttpResponse<byte[]> zipped = Await.until(WAIT, () -> client.send(
          java.net.http.HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + TOKEN)
              .header("Accept-Encoding", "gzip").build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray()),
          r -> r.statusCode() == 200);
      assertEquals("gzip", zipped.headers().firstValue("Content-Encoding").orElse(""));
      assertFalse(zipped.headers().firstValue("Content-Length").isPresent());
      assertEquals("chunked", zipped.headers().firstValue("Transfer-Encoding").orElse(""));
      assertArrayEquals(expected(PrometheusTextWriter.INSTANCE), gunzip(zipped.body()));
    } finally {
      binding.unbind().toCompletableFuture().get();
    }
  }

  private static byte[] gunzip(byte[] gz) {
    try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
