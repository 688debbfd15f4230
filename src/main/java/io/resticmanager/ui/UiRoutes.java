package io.resticmanager.ui;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.resticmanager.fleet.Fleet;
import io.resticmanager.fleet.HostEntity;
import io.resticmanager.fleet.HostView;
import io.resticmanager.http.ApiDirectives;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.store.AlertRow;
import io.resticmanager.store.AlertStore;
import io.resticmanager.store.HostRow;
import io.resticmanager.store.HostStore;
import io.resticmanager.store.JobStore;
import io.resticmanager.store.Page;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpCookiePair;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status page (CONTRACT §3: {@code GET /} and {@code /ui/…}): login with the admin token into a node-local
 * session ({@link Sessions}), the fleet, host and alerts pages and their live fragments, the acknowledge and
 * run-job forms (each checked against the session's CSRF token), and the static files. Every response of these
 * routes carries a strict Content-Security-Policy, {@code nosniff}, {@code no-referrer} and, for pages,
 * {@code Cache-Control: no-store}. Never logs or echoes the admin token or a session id.
 */
public final class UiRoutes extends ApiDirectives {
  private static final Logger log = LoggerFactory.getLogger(UiRoutes.class);

  static final String COOKIE = "rm_session";
  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
  static final int JOBS_PER_PAGE = 25;
  /** Backups read for the 30-day chart at most. */
  static final int CHART_BACKUPS = 1000;
  /** Form bodies larger than this are refused (413): the forms here send a few short fields. */
  static final long MAX_FORM_BYTES = 16 * 1024;
  private static final ContentType.WithCharset HTML = ContentTypes.TEXT_HTML_UTF8;
  private static final List<HttpHeader> SECURITY = List.of(
      RawHeader.create("Content-Security-Policy", CSP),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Referrer-Policy", "no-referrer"),
      RawHeader.create("X-Frame-Options", "DENY"));
  private static final List<HttpHeader> NO_STORE = List.of(RawHeader.create("Cache-Control", "no-store"));
  private static final Map<String, String> MESSAGES = Map.of(
      "sent", "The job was sent to the agent.",
      "offline", "The host's agent is not connected; the job was not sent.",
      "acked", "Alert acknowledged.");

  private final Fleet fleet;
  private final HostStore hosts;
  private final JobStore jobs;
  private final AlertStore alerts;
  private final Sessions sessions;
  private final boolean secureCookie;
  private final Assets assets;
  private final FleetPage fleetPage;
  private final LongSupplier clock;

  /**
   * {@code secureCookie}: the listener speaks TLS, so the session cookie is {@code Secure}. {@code backupMaxAge}
   * colours the fleet's backup ages as the backup_stale alert judges them.
   */
  public UiRoutes(String adminToken, Fleet fleet, HostStore hosts, JobStore jobs, AlertStore alerts,
      Sessions sessions, boolean secureCookie, Duration backupMaxAge, LongSupplier clock) {
    super(adminToken);
    this.fleet = fleet;
    this.hosts = hosts;
    this.jobs = jobs;
    this.alerts = alerts;
    this.sessions = sessions;
    this.secureCookie = secureCookie;
    this.assets = new Assets();
    this.fleetPage = new FleetPage(backupMaxAge);
    this.clock = clock;
  }

  public Route route() {
    return respondWithHeaders(SECURITY, () -> concat(
        pathSingleSlash(() -> get(() -> page(this::fleetPage))),
        pathPrefix("ui", () -> concat(
            path(segment("static").slash(PathMatchers.segment()), name -> get(() -> asset(name))),
            path("login", () -> respondWithDefaultHeaders(NO_STORE, () -> concat(
                get(() -> parameterOptional("out", out -> complete(html(StatusCodes.OK,
                    LoginPage.page(false, out.isPresent(), assets))))),
                post(this::login)))),
            path("logout", () -> post(() -> changing((id, s, form) -> logout(id)))),
            path("alerts", () -> get(() -> page(this::alertsPage))),
            path(segment("alerts").slash(PathMatchers.segment()).slash("ack"), id ->
                post(() -> changing((sid, s, form) -> acknowledge(id, form)))),
            path(segment("hosts").slash(PathMatchers.segment()), id -> get(() -> page(s -> hostPage(id, s)))),
            path(segment("hosts").slash(PathMatchers.segment()).slash("jobs"), id ->
                post(() -> changing((sid, s, form) -> runJob(id, form))))))));
  }

  // ---- access ----

  /** A page: needs a live session (303 to the login form otherwise); {@code Cache-Control: no-store}. */
  private Route page(Function<Sessions.Session, Route> inner) {
    return respondWithDefaultHeaders(NO_STORE, () -> optionalCookie(COOKIE, c -> {
      Optional<Sessions.Session> s = c.map(HttpCookiePair::value).flatMap(sessions::find);
      if (s.isEmpty()) return complete(seeOther("/ui/login"));
      return inner.apply(s.get());
    }));
  }

  /** What a state-changing form handler gets: the session's id and session, and the form's fields. */
  @FunctionalInterface
  private interface Changing {
    Route apply(String sessionId, Sessions.Session session, Map<String, String> form);
  }

  /**
   * A state-changing POST: needs a live session and the session's CSRF token as the form field {@code csrf},
   * compared in constant time; 403 otherwise.
   */
  private Route changing(Changing inner) {
    return respondWithDefaultHeaders(NO_STORE, () -> optionalCookie(COOKIE, c -> form(fields -> {
      Optional<String> id = c.map(HttpCookiePair::value);
      Optional<Sessions.Session> s = id.flatMap(sessions::find);
      if (s.isEmpty()) {
        return complete(message(StatusCodes.FORBIDDEN, "Your session has ended; log in again."));
      }
      if (!Sessions.csrfMatches(s.get(), fields.get("csrf"))) {
        return complete(message(StatusCodes.FORBIDDEN,
            "This form is missing its security token or the token is stale; reload the page and try again."));
      }
      return inner.apply(id.get(), s.get(), fields);
    })));
  }

  private Route login() {
    return form(fields -> {
      String token = fields.get("token");
      if (token == null || !isAdminToken(token.strip())) {
        log.info("Status page login refused");
        return complete(html(StatusCodes.UNAUTHORIZED, LoginPage.page(true, false, assets)));
      }
      Sessions.Created created = sessions.create();
      log.info("Status page login; [{}] sessions on this node", sessions.size());
      return complete(seeOther("/").addHeader(RawHeader.create("Set-Cookie",
          cookie(created.id(), sessions.ttl().toSeconds()))));
    });
  }

  private Route logout(String sessionId) {
    sessions.remove(sessionId);
    return complete(seeOther("/ui/login?out=1").addHeader(RawHeader.create("Set-Cookie", cookie("", 0))));
  }

  /** The session cookie: HttpOnly, SameSite=Strict, Path=/, Secure behind TLS, Max-Age in seconds. */
  String cookie(String value, long maxAgeSeconds) {
    return COOKIE + "=" + value + "; Path=/; Max-Age=" + maxAgeSeconds + "; HttpOnly; SameSite=Strict"
        + (secureCookie ? "; Secure" : "");
  }

  /**
   * Reads an {@code application/x-www-form-urlencoded} body of at most {@link #MAX_FORM_BYTES} into a map (the
   * first value of each name); a body that does not decode is a 400.
   */
  private Route form(Function<Map<String, String>, Route> inner) {
    return withSizeLimit(MAX_FORM_BYTES, () -> entity(Unmarshaller.entityToString(), body -> {
      Optional<Map<String, String>> fields = parseForm(body);
      if (fields.isEmpty()) return complete(message(StatusCodes.BAD_REQUEST, "The form could not be read."));
      return inner.apply(fields.get());
    }));
  }

  static Optional<Map<String, String>> parseForm(String body) {
    Map<String, String> out = new HashMap<>();
    if (body.isEmpty()) return Optional.of(out);
    try {
      for (String pair : body.split("&")) {
        if (pair.isEmpty()) continue;
        int eq = pair.indexOf('=');
        String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        out.putIfAbsent(name, value);
      }
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    return Optional.of(out);
  }

  // ---- pages ----

  private Route fleetPage(Sessions.Session s) {
    return parameterOptional("sort", sortParam -> parameterOptional("q", q -> parameterOptional("fragment", frag -> {
      Optional<FleetPage.Sort> sort = sortParam.isEmpty() ? Optional.of(FleetPage.Sort.WORST)
          : FleetPage.Sort.parse(sortParam.get());
      if (sort.isEmpty()) return complete(message(StatusCodes.BAD_REQUEST, "Unknown sort column."));
      String filter = q.map(String::strip).orElse("");
      if (filter.length() > FleetPage.MAX_FILTER) filter = filter.substring(0, FleetPage.MAX_FILTER);
      String f = filter;
      return encodeResponse(() -> await(fleet.statuses(), list -> {
        long now = clock.getAsLong();
        if (frag.isPresent()) {
          StringBuilder out = new StringBuilder(1024 + list.size() * 700);
          fleetPage.fragment(out, list, now, sort.get(), f);
          return complete(html(StatusCodes.OK, out.toString()));
        }
        return complete(html(StatusCodes.OK, fleetPage.page(list, now, sort.get(), f, assets, s.csrf())));
      }));
    })));
  }

  private Route hostPage(String id, Sessions.Session s) {
    if (!isHostId(id)) return complete(message(StatusCodes.NOT_FOUND, "No host with that id is enrolled."));
    return parameterOptional("before", beforeParam -> parameterOptional("fragment", frag ->
        parameterOptional("msg", msg -> {
          Optional<Page.Cursor> before = beforeParam.flatMap(Page.Cursor::decode);
          if (beforeParam.isPresent() && before.isEmpty()) {
            return complete(message(StatusCodes.BAD_REQUEST, "That is not a page of this host's jobs."));
          }
          var host = fleet.get(id);
          var page = jobs.list(new JobStore.Query(Optional.of(id), Optional.empty(), Optional.empty(), JOBS_PER_PAGE,
              before));
          var backups = jobs.list(new JobStore.Query(Optional.of(id), Optional.of(JobKind.BACKUP), Optional.empty(),
              CHART_BACKUPS, Optional.empty()));
          var hostAlerts = alerts.listForHost(id, 50);
          return await(host.thenCompose(h -> page.thenCompose(p -> backups.thenCombine(hostAlerts, (b, a) ->
              h instanceof HostView v ? Optional.of(new HostPage.Data(v, p, b.rows(), a, beforeParam))
                  : Optional.<HostPage.Data>empty()))), data -> {
            if (data.isEmpty()) return complete(message(StatusCodes.NOT_FOUND, "No host with that id is enrolled."));
            long now = clock.getAsLong();
            if (frag.isPresent()) {
              StringBuilder out = new StringBuilder(16 * 1024);
              HostPage.fragment(out, data.get(), now, s.csrf());
              return complete(html(StatusCodes.OK, out.toString()));
            }
            return complete(html(StatusCodes.OK,
                HostPage.page(data.get(), now, msg.map(MESSAGES::get).orElse(null), assets, s.csrf())));
          });
        })));
  }

  /** What the alerts page reads: the open alerts, the latest resolved ones and every host (for names). */
  private record AlertLists(Page<AlertRow> open, Page<AlertRow> resolved, List<HostRow> hosts) {}

  private Route alertsPage(Sessions.Session s) {
    return parameterOptional("fragment", frag -> parameterOptional("msg", msg -> {
      var open = alerts.list(AlertStore.Filter.OPEN, 500, Optional.empty());
      var resolved = alerts.list(AlertStore.Filter.RESOLVED, 50, Optional.empty());
      var names = hosts.all();
      return await(open.thenCompose(o -> resolved.thenCombine(names, (r, n) -> new AlertLists(o, r, n))), d -> {
        Map<String, String> byId = new HashMap<>();
        for (HostRow h : d.hosts()) byId.put(h.id(), h.name());
        long now = clock.getAsLong();
        if (frag.isPresent()) {
          StringBuilder out = new StringBuilder(8 * 1024);
          AlertsPage.fragment(out, d.open().rows(), d.resolved().rows(), byId, now, s.csrf());
          return complete(html(StatusCodes.OK, out.toString()));
        }
        return complete(html(StatusCodes.OK, AlertsPage.page(d.open().rows(), d.resolved().rows(), byId, now,
            msg.map(MESSAGES::get).orElse(null), assets, s.csrf())));
      });
    }));
  }

  // ---- actions ----

  private Route acknowledge(String alertId, Map<String, String> form) {
    String back = safeBack(form.get("back"));
    return await(alerts.acknowledge(alertId, clock.getAsLong()), row -> row
        .map(a -> {
          fleet.acknowledged(a);
          return complete(seeOther(back + "?msg=acked"));
        })
        .orElseGet(() -> complete(message(StatusCodes.NOT_FOUND, "No alert with that id."))));
  }

  private Route runJob(String hostId, Map<String, String> form) {
    if (!isHostId(hostId)) return complete(message(StatusCodes.NOT_FOUND, "No host with that id is enrolled."));
    Optional<JobKind> kind = JobKind.fromWire(form.getOrDefault("kind", ""))
        .filter(k -> k == JobKind.BACKUP || k == JobKind.CHECK);
    if (kind.isEmpty()) return complete(message(StatusCodes.BAD_REQUEST, "Only backup and check can be run from here."));
    return await(fleet.runJob(hostId, kind.get(), null), reply -> {
      if (reply instanceof HostEntity.JobSent) return complete(seeOther("/ui/hosts/" + hostId + "?msg=sent"));
      if (reply == HostEntity.HostOffline.INSTANCE) {
        return complete(seeOther("/ui/hosts/" + hostId + "?msg=offline"));
      }
      return complete(message(StatusCodes.NOT_FOUND, "No host with that id is enrolled."));
    });
  }

  /** Where an acknowledge form may return: the alerts page or a host's page; anything else goes to the alerts. */
  static String safeBack(String back) {
    if (back != null && back.startsWith("/ui/hosts/") && isHostId(back.substring("/ui/hosts/".length()))) return back;
    return "/ui/alerts";
  }

  // ---- static files ----

  private Route asset(String name) {
    return assets.get(name)
        .map(a -> complete(HttpResponse.create()
            .withEntity(HttpEntities.create((a.mediaType().equals("text/css") ? MediaTypes.TEXT_CSS
                : MediaTypes.APPLICATION_JAVASCRIPT).toContentType(HttpCharsets.UTF_8), a.bytes()))
            .addHeader(RawHeader.create("Cache-Control", "public, max-age=31536000, immutable"))))
        .orElseGet(() -> complete(message(StatusCodes.NOT_FOUND, "No such file.")));
  }

  // ---- responses ----

  private static HttpResponse html(StatusCode status, String body) {
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(HTML, body));
  }

  private static HttpResponse seeOther(String location) {
    return HttpResponse.create().withStatus(StatusCodes.SEE_OTHER).addHeader(Location.create(location));
  }

  /** A small HTML page with one message, for refusals and errors. */
  private HttpResponse message(StatusCode status, String text) {
    StringBuilder out = new StringBuilder(1024);
    Html.open(out, status.reason(), assets, Html.Nav.NONE, null);
    out.append("<h1>").append(status.intValue()).append(' ');
    Html.esc(out, status.reason()).append("</h1><p id=\"message\" class=\"message\">");
    Html.esc(out, text).append("</p><p><a href=\"/\">Back to the fleet</a></p>");
    Html.close(out);
    return html(status, out.toString());
  }
}
