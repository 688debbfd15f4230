package io.resticmanager.http;

import io.resticmanager.BuildInfo;
import io.resticmanager.fleet.Fleet;
import io.resticmanager.jobs.JobDurations;
import io.resticmanager.jobs.JobTracker;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.metrics.MetricsTextWriter;
import io.resticmanager.metrics.OpenMetricsTextWriter;
import io.resticmanager.metrics.PrometheusTextWriter;
import io.resticmanager.metrics.ServerMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.coding.Coder;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaType;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /metrics} and {@code HEAD /metrics}: behind
 * {@link ScrapeDirectives}, asks {@link JobTracker} and {@link Fleet} for snapshots with the configured
 * timeout (a timeout is 503), renders Prometheus text 0.0.4, or OpenMetrics 1.0.0 when {@code Accept}
 * asks for it, gzip when {@code Accept-Encoding} allows. Concurrent scrapes are bounded; excess ones get
 * 503 at once. Not mounted (404) unless a metrics token, token file or trusted CIDR is configured.
 * Renders from in-memory snapshots only: a scrape never waits on the database.
 */
public final class MetricsRoutes extends ApiDirectives {
  private static final ContentType TEXT = exactly(PrometheusTextWriter.CONTENT_TYPE);
  private static final ContentType OPENMETRICS = exactly(OpenMetricsTextWriter.CONTENT_TYPE);

  private final ScrapeGuard.ScrapePolicy policy;
  private final ScrapeDirectives guard;
  private final ActorRef<JobTracker.Command> jobTracker;
  private final ActorRef<Fleet.Command> fleet;
  private final Duration askTimeout;
  private final Scheduler scheduler;
  private final int maxInFlight;
  private final AtomicInteger inFlight = new AtomicInteger();

  public MetricsRoutes(ScrapeGuard.ScrapePolicy policy, ScrapeDirectives guard, ActorRef<JobTracker.Command> jobTracker,
      ActorRef<Fleet.Command> fleet, Duration askTimeout, Scheduler scheduler, int maxInFlight) {
    super("");
    this.policy = policy;
    this.guard = guard;
    this.jobTracker = jobTracker;
    this.fleet = fleet;
    this.askTimeout = askTimeout;
    this.scheduler = scheduler;
    this.maxInFlight = maxInFlight;
  }

  public Route route() {
    if (!policy.enabled()) return reject();
    // Pekko HTTP 1.x has transparent-head-requests off: HEAD must be routed explicitly. The server
    // renders a HEAD response's headers (Content-Length included) and drops the body.
    return path("metrics", () -> concat(get(this::scrape), head(this::scrape)));
  }

  private Route scrape() {
    return guard.authorizeScrape(policy, () ->
        optionalHeaderValueByName("Accept", accept -> gzipIfAccepted(() -> {
          if (inFlight.incrementAndGet() > maxInFlight) {
            inFlight.decrementAndGet();
            return complete(error(StatusCodes.SERVICE_UNAVAILABLE, "unavailable",
                "Too many scrapes at once; try again."));
          }
          CompletionStage<HttpResponse> response = snapshot()
              .thenApply(body -> render(body, wantsOpenMetrics(accept)))
              .whenComplete((r, e) -> inFlight.decrementAndGet());
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
  private Route gzipIfAccepted(Supplier<Route> inner) {
    return optionalHeaderValueByName("Accept-Encoding", ae -> acceptsGzip(ae)
        ? encodeResponseWith(List.of(Coder.Gzip), inner)
        : inner.get());
  }

  static boolean acceptsGzip(Optional<String> acceptEncoding) {
    return lists(acceptEncoding, "gzip");
  }

  private record Snapshots(JobDurations jobs, FleetSample fleet) {}

  private CompletionStage<Snapshots> snapshot() {
    CompletionStage<JobDurations> jobs = AskPattern.ask(jobTracker, JobTracker.GetSnapshot::new, askTimeout, scheduler);
    CompletionStage<FleetSample> hosts = AskPattern.ask(fleet, Fleet.GetSample::new, askTimeout, scheduler);
    return jobs.thenCombine(hosts, Snapshots::new);
  }

  private static HttpResponse render(Snapshots s, boolean openMetrics) {
    MetricsTextWriter writer = openMetrics ? OpenMetricsTextWriter.INSTANCE : PrometheusTextWriter.INSTANCE;
    byte[] body = writer.toBytes(ServerMetrics.build(s.jobs(), s.fleet(), BuildInfo.current()));
    return HttpResponse.create().withEntity(HttpEntities.create(openMetrics ? OPENMETRICS : TEXT, body));
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
