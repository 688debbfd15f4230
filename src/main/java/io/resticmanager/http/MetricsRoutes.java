package io.resticmanager.http;

import io.resticmanager.BuildInfo;
import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobTracker;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.metrics.GzipPieces;
import io.resticmanager.metrics.MetricsSnapshot;
import io.resticmanager.metrics.MetricsTextWriter;
import io.resticmanager.metrics.OpenMetricsTextWriter;
import io.resticmanager.metrics.PrometheusTextWriter;
import io.resticmanager.metrics.ServerMetrics;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.dispatch.ExecutionContexts;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.ContentEncoding;
import org.apache.pekko.http.javadsl.model.headers.HttpEncodings;
import org.apache.pekko.http.javadsl.model.MediaType;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import scala.concurrent.ExecutionContext;

/**
 * {@code GET /metrics} and {@code HEAD /metrics}: behind
 * {@link ScrapeDirectives}, asks {@link JobTracker} and this node's view of its hosts for snapshots with the configured
 * timeout (a timeout is 503), renders Prometheus text 0.0.4, or OpenMetrics 1.0.0 when {@code Accept}
 * asks for it, gzip when {@code Accept-Encoding} allows. Not mounted (404) unless a metrics token, token
 * file or trusted CIDR is configured. Renders from in-memory snapshots only: a scrape never waits on the
 * database.
 *
 * <p>The body is rendered lazily, one part of {@link #CHUNK_BYTES} ({@link MetricsTextWriter#parts}) each
 * time the connection asks for more, as a {@link ByteString} that wraps the part's pieces: the hosts' rows,
 * which the fleet keeps rendered in blocks ({@link io.resticmanager.metrics.HostRows}), are not copied
 * until the socket writes them. A scrape allocates little (≈ 0.3 MB for 10,000 hosts: the wrappers and the
 * small families), which keeps young collections rare while scrapes come back to back. Gzip compresses
 * only what is not the hosts' rows: those were deflated when their blocks were built
 * ({@link GzipPieces}). Pekko asks for the next part once the last one is in the socket's send buffer, so
 * for a client that stops reading the server keeps the snapshot and what the kernel buffers, not a copy of
 * the body. A plain body has its {@code Content-Length}, counted before it is sent
 * ({@link MetricsTextWriter#length}: the hosts' rows are rendered ahead of time, so their length is
 * known); a gzipped body's length is known only once compressed, so it is sent with
 * {@code Transfer-Encoding: chunked} (HTTP/1.0 clients: ended by closing the connection). {@code HEAD}
 * answers with the same headers as {@code GET} and renders no body: Pekko cancels a HEAD response's body
 * stream unread.
 *
 * <p>At most {@code maxInFlight} scrapes are admitted at once; excess ones get 503 at once. An admitted
 * scrape keeps its place until its body stream ends (sent, failed, or cancelled by a closing client or a
 * HEAD), so the bound limits the bodies being rendered and sent, not just the snapshots being taken; a
 * slow client keeps its place while it reads. Pekko drops a response unsent, never running its body, when
 * its connection closed or its request timed out while it was being made: so a response whose body has
 * not started {@link #UNSENT_GRACE} after it was made gives its place back then.
 */
public final class MetricsRoutes extends ApiDirectives {
  private static final ContentType TEXT = exactly(PrometheusTextWriter.CONTENT_TYPE);
  private static final ContentType OPENMETRICS = exactly(OpenMetricsTextWriter.CONTENT_TYPE);
  /**
   * Body bytes per part: each part costs Pekko a fixed amount (a socket write and its acknowledgement
   * between actors). When parts were copied chunks, a 10,000-host body (11.6 MB) took p50 67–76 ms to its
   * last byte in 64 KiB chunks, 57–59 ms in 256 KiB and 51–62 ms in 384 KiB or 1 MiB. A part now copies
   * nothing (about 1,100 blocks of hosts' rows make 45 parts); the size was kept.
   */
  public static final int CHUNK_BYTES = 256 * 1024;
  /**
   * Pekko starts a response's body as soon as the response is made, unless it will never send it or the
   * connection is still sending an earlier response (pipelined requests): such a response then streams
   * later without a place in the bound.
   */
  static final Duration UNSENT_GRACE = Duration.ofSeconds(10);
  private static final HttpHeader GZIPPED = ContentEncoding.create(HttpEncodings.GZIP);
  private static final HttpHeader VARY = HttpHeader.parse("Vary", "Accept-Encoding");
  private static final ExecutionContext SAME_THREAD = ExecutionContexts.fromExecutor(Runnable::run);

  private final ScrapeGuard.ScrapePolicy policy;
  private final ScrapeDirectives guard;
  private final ActorRef<JobTracker.Command> jobTracker;
  private final Supplier<CompletionStage<FleetSample>> fleet;
  private final Supplier<Map<String, Integer>> members;
  private final Duration askTimeout;
  private final Scheduler scheduler;
  private final int maxInFlight;
  private final Duration unsentGrace;
  private final AtomicInteger inFlight = new AtomicInteger();

  /**
   * {@code fleet} gives what this node shows of the hosts (a failed or late stage is a 503), {@code members}
   * the cluster's members by status (null: no {@code restic_manager_cluster_members} family).
   */
  public MetricsRoutes(ScrapeGuard.ScrapePolicy policy, ScrapeDirectives guard, ActorRef<JobTracker.Command> jobTracker,
      Supplier<CompletionStage<FleetSample>> fleet, Supplier<Map<String, Integer>> members, Duration askTimeout,
      Scheduler scheduler, int maxInFlight) {
    this(policy, guard, jobTracker, fleet, members, askTimeout, scheduler, maxInFlight, UNSENT_GRACE);
  }

  /** With another grace for unsent responses than {@link #UNSENT_GRACE}; for tests. */
  MetricsRoutes(ScrapeGuard.ScrapePolicy policy, ScrapeDirectives guard, ActorRef<JobTracker.Command> jobTracker,
      Supplier<CompletionStage<FleetSample>> fleet, Supplier<Map<String, Integer>> members, Duration askTimeout,
      Scheduler scheduler, int maxInFlight, Duration unsentGrace) {
    super("");
    this.policy = policy;
    this.guard = guard;
    this.jobTracker = jobTracker;
    this.fleet = fleet;
    this.members = members;
    this.askTimeout = askTimeout;
    this.scheduler = scheduler;
    this.maxInFlight = maxInFlight;
    this.unsentGrace = unsentGrace;
  }

  public Route route() {
    if (!policy.enabled()) return reject();
    // Pekko HTTP 1.x has transparent-head-requests off: HEAD must be routed explicitly. The server
    // renders a HEAD response's headers and cancels its body stream unread.
    return path("metrics", () -> concat(get(this::scrape), head(this::scrape)));
  }

  private Route scrape() {
    return guard.authorizeScrape(policy, () ->
        optionalHeaderValueByName("Accept", accept -> optionalHeaderValueByName("Accept-Encoding", encodings -> {
          if (inFlight.incrementAndGet() > maxInFlight) {
            inFlight.decrementAndGet();
            return complete(error(StatusCodes.SERVICE_UNAVAILABLE, "unavailable",
                "Too many scrapes at once; try again."));
          }
          Slot slot = new Slot();
          CompletionStage<HttpResponse> response = snapshot()
              .thenApply(s -> render(s, wantsOpenMetrics(accept), acceptsGzip(encodings), slot))
              .whenComplete((r, e) -> {
                if (e != null) {
                  slot.release();
                } else {
                  scheduler.scheduleOnce(unsentGrace, slot::releaseUnlessSending, SAME_THREAD);
                }
              });
          return await(response, this::complete);
        })));
  }

  /**
   * The content type rendered byte for byte as {@code header}. Pekko renders its predefined UTF-8
   * charset as {@code charset=UTF-8}; the contract's header says {@code charset=utf-8}, so the charset
   * is named that way.
   */
  static ContentType exactly(String header) {
    ContentType parsed = ContentTypes.parse(header);
    ContentType exact = parsed.mediaType() instanceof MediaType.WithOpenCharset open
        ? open.toContentType(HttpCharsets.custom("utf-8"))
        : parsed;
    if (!exact.toString().equals(header)) {
      throw new IllegalStateException("content type renders as [" + exact + "], not [" + header + "]");
    }
    return exact;
  }

  /** Gzip only when the client says it takes gzip; a client that says nothing gets plain text. */
  static boolean acceptsGzip(Optional<String> acceptEncoding) {
    return lists(acceptEncoding, "gzip");
  }

  private record Snapshots(JobDurations jobs, FleetSample fleet, Map<String, Integer> members) {}

  private CompletionStage<Snapshots> snapshot() {
    CompletionStage<JobDurations> jobs = AskPattern.ask(jobTracker, JobTracker.GetSnapshot::new, askTimeout, scheduler);
    return jobs.thenCombine(fleet.get(), (j, f) -> new Snapshots(j, f, members == null ? null : members.get()));
  }

  /**
   * A response whose body is rendered as it is sent and gives {@code slot} back when it ends; gzipped
   * ({@link GzipPieces}) when {@code gzip}.
   */
  private static HttpResponse render(Snapshots s, boolean openMetrics, boolean gzip, Slot slot) {
    MetricsTextWriter writer = openMetrics ? OpenMetricsTextWriter.INSTANCE : PrometheusTextWriter.INSTANCE;
    MetricsSnapshot snapshot = ServerMetrics.build(s.jobs(), s.fleet(), BuildInfo.current(), s.members());
    Body parts = new Body(writer.parts(snapshot, CHUNK_BYTES), gzip);
    Source<ByteString, NotUsed> body = Source.fromIterator(() -> parts)
        .watchTermination((notUsed, ended) -> {
          slot.sending();
          ended.whenComplete((done, failure) -> {
            parts.close();
            slot.release();
          });
          return notUsed;
        });
    ContentType type = openMetrics ? OPENMETRICS : TEXT;
    HttpResponse response = HttpResponse.create()
        .withEntity(gzip ? HttpEntities.createChunked(type, body) : HttpEntities.create(type, writer.length(snapshot), body))
        .addHeader(VARY);
    return gzip ? response.addHeader(GZIPPED) : response;
  }

  /**
   * The body, one {@link ByteString} per part that wraps the part's pieces: the hosts' rows are not copied.
   * Gzipped by a {@link GzipPieces}, made when the body starts (a HEAD's never does), when {@code gzip}:
   * then the hosts' rows come already deflated. Iterated once, on the stream's thread; closed when the
   * stream ends however it ends.
   */
  public static final class Body implements Iterator<ByteString>, AutoCloseable {
    private final MetricsTextWriter.Parts parts;
    private final boolean gzip;
    private GzipPieces zipped;

    /** Public for the benchmarks, which take a body apart as the route's stream does. */
    public Body(MetricsTextWriter.Parts parts, boolean gzip) {
      this.parts = parts;
      this.gzip = gzip;
    }

    @Override
    public boolean hasNext() {
      return parts.hasNext();
    }

    @Override
    public ByteString next() {
      ByteStringBuilder part = ByteString.newBuilder();
      MetricsTextWriter.PieceSink wrap =
          (bytes, offset, length) -> part.append(ByteString.fromArrayUnsafe(bytes, offset, length));
      if (!gzip) {
        parts.next(wrap);
        return part.result();
      }
      if (zipped == null) zipped = new GzipPieces();
      zipped.to(wrap);
      parts.next(zipped);
      if (!parts.hasNext()) zipped.finish();
      return part.result();
    }

    /** Frees the compressor of a body that ended before its last part; called once the stream has ended. */
    @Override
    public void close() {
      if (zipped != null) zipped.close();
    }
  }

  /** One admitted scrape's place in the bound, given back exactly once. */
  private final class Slot {
    private final AtomicBoolean held = new AtomicBoolean(true);
    private volatile boolean sending;

    void sending() {
      sending = true;
    }

    void releaseUnlessSending() {
      if (!sending) release();
    }

    void release() {
      if (held.compareAndSet(true, false)) inFlight.decrementAndGet();
    }
  }

  /** {@code application/openmetrics-text} listed in {@code Accept} with a weight above zero. */
  static boolean wantsOpenMetrics(Optional<String> accept) {
    return lists(accept, "application/openmetrics-text");
  }

  /**
   * Whether a comma-separated header ({@code Accept}, {@code Accept-Encoding}) lists {@code token}
   * (case-insensitively) without {@code q=0}, which RFC 9110 defines as "not acceptable".
   */
  private static boolean lists(Optional<String> header, String token) {
    if (header.isEmpty()) return false;
    for (String part : header.get().split(",")) {
      String[] p = part.trim().split(";");
      if (!p[0].trim().equalsIgnoreCase(token)) continue;
      boolean refused = false;
      for (int i = 1; i < p.length; i++) {
        String q = p[i].trim();
        if (q.regionMatches(true, 0, "q=", 0, 2) && q.substring(2).trim().matches("0(\\.0*)?")) refused = true;
      }
      if (!refused) return true;
    }
    return false;
  }
}
