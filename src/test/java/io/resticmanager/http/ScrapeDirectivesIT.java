package io.resticmanager.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.resticmanager.config.Cidr;
import io.resticmanager.config.IpLiteral;
import io.resticmanager.http.ScrapeGuard.ScrapePolicy;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.server.Route;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code authorizeScrape} on a real Pekko HTTP server bound to 127.0.0.1, driven by the JDK HttpClient.
 * Every request comes from 127.0.0.1, so each policy is mounted under its own prefix.
 */
class ScrapeDirectivesIT {
  private static final String TOKEN = "it-scrape-token";
  private static final List<Cidr> LOCAL = Cidr.parseList("127.0.0.0/8");
  private static final List<Cidr> ELSEWHERE = Cidr.parseList("192.0.2.0/24");

  @TempDir static Path dir;
  private static Path tokenFile;
  private static ActorSystem<Void> system;
  private static ServerBinding binding;
  private static Route route;
  private static HttpClient client;
  private static String base;

  @BeforeAll
  static void startServer() throws Exception {
    tokenFile = dir.resolve("metrics-token");
    Files.writeString(tokenFile, "first\n", UTF_8);
    system = ActorSystem.create(Behaviors.empty(), "ScrapeDirectivesIT",
        ConfigFactory.parseString("pekko.http.server.remote-address-attribute = on")
            .withFallback(ConfigFactory.load()));
    ScrapeDirectives d = new ScrapeDirectives();
    route = d.concat(
        mount(d, "token", new ScrapePolicy(Optional.of(TOKEN), Optional.empty(), List.of(), List.of())),
        mount(d, "local", new ScrapePolicy(Optional.empty(), Optional.empty(), LOCAL, List.of())),
        mount(d, "elsewhere", new ScrapePolicy(Optional.empty(), Optional.empty(), ELSEWHERE, List.of())),
        mount(d, "both", new ScrapePolicy(Optional.of(TOKEN), Optional.empty(), LOCAL, List.of())),
        mount(d, "proxied", new ScrapePolicy(Optional.empty(), Optional.empty(), ELSEWHERE, Cidr.parseList("127.0.0.1"))),
        mount(d, "file", new ScrapePolicy(Optional.of(TOKEN), Optional.of(tokenFile), List.of(), List.of())),
        mount(d, "nofile", new ScrapePolicy(Optional.empty(), Optional.of(dir.resolve("absent")), List.of(), List.of())),
        mount(d, "off", new ScrapePolicy(Optional.empty(), Optional.empty(), List.of(), List.of())));
    binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(route)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  private static Route mount(ScrapeDirectives d, String prefix, ScrapePolicy policy) {
    return d.pathPrefix(prefix, () -> d.path("metrics", () -> d.authorizeScrape(policy, () -> d.complete("ok"))));
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (binding != null) binding.terminate(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    if (system != null) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static HttpResponse<String> get(String path, String... headerPairs) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET();
    for (int i = 0; i < headerPairs.length; i += 2) b.header(headerPairs[i], headerPairs[i + 1]);
    return client.send(b.build(), BodyHandlers.ofString());
  }

  private static void assertJsonError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r::body);
    assertEquals(Optional.of("application/json"), r.headers().firstValue("Content-Type"));
    assertTrue(r.body().startsWith("{\"error\":\"" + code + "\",\"message\":\""), r::body);
    assertTrue(r.body().endsWith("\"}"), r::body);
  }

  @Test
  void aScrapeWithoutATokenGets401WithABearerChallenge() throws Exception {
    HttpResponse<String> r = get("/token/metrics");
    assertJsonError(r, 401, "unauthorized");
    assertEquals(List.of("Bearer"), r.headers().allValues("WWW-Authenticate"));
  }

  @Test
  void aScrapeWithAWrongTokenGets401AndTheAnswerNeverEchoesATokenBack() throws Exception {
    HttpResponse<String> r = get("/token/metrics", "Authorization", "Bearer wrong-token");
    assertJsonError(r, 401, "unauthorized");
    assertFalse(r.body().contains("wrong-token"));
    assertFalse(r.body().contains(TOKEN));
  }

  @Test
  void aScrapeWithTheRightTokenGets200() throws Exception {
    HttpResponse<String> r = get("/token/metrics", "Authorization", "Bearer " + TOKEN);
    assertEquals(200, r.statusCode());
    assertEquals("ok", r.body());
  }

  @Test
  void aLowerCaseBearerSchemeIsAccepted() throws Exception {
    assertEquals(200, get("/token/metrics", "Authorization", "bearer " + TOKEN).statusCode());
  }

  @Test
  void twoAuthorizationLinesAreAmbiguousAndGet401EvenIfOneIsRight() throws Exception {
    HttpResponse<String> r =
        get("/token/metrics", "Authorization", "Bearer " + TOKEN, "Authorization", "Bearer " + TOKEN);
    assertJsonError(r, 401, "unauthorized");
  }

  @Test
  void aClientInsideTheTrustedCidrsGets200() throws Exception {
    assertEquals(200, get("/local/metrics").statusCode());
  }

  @Test
  void aClientOutsideTheTrustedCidrsGets403() throws Exception {
    assertJsonError(get("/elsewhere/metrics"), 403, "forbidden");
  }

  @Test
  void spoofedAddressHeadersFromAnUntrustedPeerAreIgnored() throws Exception {
    HttpResponse<String> r = get("/elsewhere/metrics",
        "X-Forwarded-For", "192.0.2.5", "X-Real-IP", "192.0.2.5", "Forwarded", "for=192.0.2.5");
    assertJsonError(r, 403, "forbidden");
  }

  @Test
  void withBothRulesEachMustPass() throws Exception {
    assertJsonError(get("/both/metrics"), 401, "unauthorized");
    assertEquals(200, get("/both/metrics", "Authorization", "Bearer " + TOKEN).statusCode());
  }

  @Test
  void behindATrustedProxyTheForwardedClientInsideTheCidrsGets200() throws Exception {
    assertEquals(200, get("/proxied/metrics", "X-Forwarded-For", "192.0.2.5").statusCode());
    assertEquals(200, get("/proxied/metrics", "X-Forwarded-For", "198.51.100.1, 192.0.2.5:4711").statusCode());
  }

  @Test
  void behindATrustedProxyTheForwardedClientOutsideTheCidrsGets403() throws Exception {
    assertJsonError(get("/proxied/metrics", "X-Forwarded-For", "198.51.100.1"), 403, "forbidden");
    assertJsonError(get("/proxied/metrics", "X-Forwarded-For", "192.0.2.5, 198.51.100.1"), 403, "forbidden");
  }

  @Test
  void behindATrustedProxyTwoHeaderLinesAreReadAsOneChain() throws Exception {
    HttpResponse<String> r = get("/proxied/metrics", "X-Forwarded-For", "198.51.100.1", "X-Forwarded-For", "192.0.2.5");
    assertEquals(200, r.statusCode());
    HttpResponse<String> reversed =
        get("/proxied/metrics", "X-Forwarded-For", "192.0.2.5", "X-Forwarded-For", "198.51.100.1");
    assertJsonError(reversed, 403, "forbidden");
  }

  @Test
  void behindATrustedProxyAHostNameOrUnknownEntryGets403() throws Exception {
    assertJsonError(get("/proxied/metrics", "X-Forwarded-For", "scraper.example.com"), 403, "forbidden");
    assertJsonError(get("/proxied/metrics", "X-Forwarded-For", "unknown, 192.0.2.5"), 403, "forbidden");
  }

  @Test
  void theTrustedProxyItselfIsJudgedByItsOwnAddressWithoutTheHeader() throws Exception {
    assertJsonError(get("/proxied/metrics"), 403, "forbidden");
  }

  @Test
  void aRotatedTokenFileTakesEffectAtTheNextScrapeAndWinsOverTheInlineToken() throws Exception {
    Files.writeString(tokenFile, "first\n", UTF_8);
    assertEquals(200, get("/file/metrics", "Authorization", "Bearer first").statusCode());
    assertJsonError(get("/file/metrics", "Authorization", "Bearer " + TOKEN), 401, "unauthorized");
    Files.writeString(tokenFile, "second\n", UTF_8);
    assertEquals(200, get("/file/metrics", "Authorization", "Bearer second").statusCode());
    assertJsonError(get("/file/metrics", "Authorization", "Bearer first"), 401, "unauthorized");
  }

  @Test
  void anUnreadableTokenFileGets503() throws Exception {
    HttpResponse<String> r = get("/nofile/metrics", "Authorization", "Bearer anything");
    assertJsonError(r, 503, "unavailable");
    assertFalse(r.body().contains("absent"), r::body);
  }

  @Test
  void aPolicyWithoutRulesIsNotMounted() throws Exception {
    assertEquals(404, get("/off/metrics").statusCode());
  }

  @Test
  void withoutTheRemoteAddressAttributeACidrRuleDenies() throws Exception {
    var handler = route.handler(system);
    var bare = org.apache.pekko.http.javadsl.model.HttpRequest.GET("/local/metrics");
    assertEquals(403, handler.apply(bare).toCompletableFuture().get(10, TimeUnit.SECONDS).status().intValue());

    var withPeer = bare.addAttribute(
        AttributeKeys.remoteAddress, RemoteAddress.create(IpLiteral.parse("127.0.0.1").orElseThrow()));
    assertEquals(200, handler.apply(withPeer).toCompletableFuture().get(10, TimeUnit.SECONDS).status().intValue());
  }
}
