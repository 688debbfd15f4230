package io.resticmanager.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The HTTP API of a server on a loopback port, wherever it runs (a child process or in-process): admin
 * calls with the admin token, scrapes with the metrics token, and the few reads reliability tests check.
 * Over HTTPS when given an {@link SSLContext} that trusts the server's certificate.
 */
public final class ServerApi {
  /** The jobs API's largest page; a host with more jobs cannot be checked through it. */
  private static final int PAGE = 1000; // the API's largest page
  private static final Pattern NEXT = Pattern.compile("<([^>]+)>; rel=\"next\"");

  private final int port;
  private final String adminToken;
  private final String metricsToken;
  private final SSLContext tls;
  private final HttpClient http;

  public ServerApi(int port, String adminToken, String metricsToken) {
    this(port, adminToken, metricsToken, null);
  }

  /** {@code tls} null: plain HTTP. */
  public ServerApi(int port, String adminToken, String metricsToken, SSLContext tls) {
    this.port = port;
    this.adminToken = adminToken;
    this.metricsToken = metricsToken;
    this.tls = tls;
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5));
    this.http = (tls == null ? b : b.sslContext(tls)).build();
  }

  /** What the client trusts when the server speaks HTTPS; null for plain HTTP. */
  public SSLContext tls() {
    return tls;
  }

  public int port() {
    return port;
  }

  public URI uri(String path) {
    return URI.create((tls == null ? "http" : "https") + "://127.0.0.1:" + port + path);
  }

  public URI wsUri() {
    return URI.create((tls == null ? "ws" : "wss") + "://127.0.0.1:" + port + "/api/v1/agents/ws");
  }

  public HttpResponse<String> send(String method, String path, String bearer, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A plain GET: no body, no Content-Type. */
  public HttpResponse<String> get(String path, String bearer) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20)).GET();
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** An admin GET that must answer 200; returns the body. */
  public String admin(String path) throws Exception {
    HttpResponse<String> r = get(path, adminToken);
    if (r.statusCode() != 200) throw new AssertionError("GET " + path + ": " + r.statusCode() + " " + r.body());
    return r.body();
  }

  /** Enrolls {@code hostname} with a fresh enrollment token. */
  public TestServer.Enrolled enroll(String hostname) throws Exception {
    HttpResponse<String> t = send("POST", "/api/v1/enrollment-tokens", adminToken, "{}");
    if (t.statusCode() != 201) throw new AssertionError("enrollment token: " + t.statusCode() + " " + t.body());
    HttpResponse<String> e = send("POST", "/api/v1/agents/enroll", null, "{\"enrollment_token\":\""
        + TestServer.field(t.body(), "token") + "\",\"hostname\":\"" + hostname + "\"}");
    if (e.statusCode() != 201) throw new AssertionError("enroll: " + e.statusCode() + " " + e.body());
    return new TestServer.Enrolled(TestServer.field(e.body(), "host_id"), TestServer.field(e.body(), "agent_token"));
  }

  public List<Map<String, Object>> hosts() throws Exception {
    return Json.objects(admin("/api/v1/hosts"));
  }

  /** Every job of the host, page after page by the {@code Link: rel="next"} headers. */
  public List<Map<String, Object>> jobs(String hostId) throws Exception {
    return allPages("/api/v1/jobs?limit=" + PAGE + "&host=" + hostId);
  }

  /** Every row of a paged admin list, following {@code Link: <…>; rel="next"} until it is gone. */
  public List<Map<String, Object>> allPages(String first) throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    String path = first;
    while (path != null) {
      HttpResponse<String> r = get(path, adminToken);
      if (r.statusCode() != 200) throw new AssertionError("GET " + path + ": " + r.statusCode() + " " + r.body());
      out.addAll(Json.objects(r.body()));
      Matcher next = NEXT.matcher(r.headers().firstValue("Link").orElse(""));
      path = next.matches() ? next.group(1) : null;
    }
    return out;
  }

  public List<Map<String, Object>> openAlerts() throws Exception {
    return allPages("/api/v1/alerts?status=open&limit=" + PAGE);
  }

  /** A scrape of /metrics that must answer 200, parsed. */
  public Exposition metrics() throws Exception {
    HttpResponse<String> r = get("/metrics", metricsToken);
    if (r.statusCode() != 200) throw new AssertionError("/metrics: " + r.statusCode() + " " + r.body());
    return Exposition.parse(r.body());
  }

  /** Finished jobs the histogram has counted: the sum of every series' _count. */
  public static long histogramCount(Exposition e) {
    return Math.round(e.named("restic_manager_job_duration_seconds_count").stream()
        .mapToDouble(Exposition.Sample::number).sum());
  }
}
