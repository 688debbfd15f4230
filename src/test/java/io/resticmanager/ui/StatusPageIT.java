package io.resticmanager.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.resticmanager.support.TestAgent;
import io.resticmanager.support.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The status page in Debian's headless Chromium (Selenium + chromedriver) against a real server fed by agents
 * over real WebSockets: login refused and accepted, the fleet's ages and states, a backup run from the host page
 * appearing without a reload, an alert acknowledged from the page, CSRF and security headers (JDK HttpClient with
 * the browser's session cookie), and agent-supplied markup shown as text. Screenshots of every page go to
 * {@code target/ui-screenshots/}; with {@code RM_UPDATE_DOCS_SCREENSHOT=1} the fleet page's also to
 * {@code docs/status-page.png}. Skips when chromium or chromedriver is missing, unless {@code RM_REQUIRE_TOOLS=1}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StatusPageIT {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String OS_XSS = "<script>alert(1)</script>";
  private static final String ERROR_XSS = "<img src=x onerror=alert(1)>";
  private static final Path SHOTS = Path.of("target", "ui-screenshots");

  @TempDir static Path dir;

  private TestServer server;
  private ChromeDriver driver;
  private TestAgent web;
  private TestAgent db;
  private String webId;
  private String dbId;
  private String oldId;
  private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  @BeforeAll
  void start() throws Exception {
    requireTool(CHROMIUM, "chromium");
    requireTool(CHROMEDRIVER, "chromium-driver");
    server = TestServer.start(dir.resolve("server"));
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    TestServer.Enrolled w = server.enroll("web-1");
    webId = w.hostId();
    web = TestAgent.connectAndHello(server.wsUri(), w.agentToken(), "web-1");
    web.runJob(UUID.randomUUID(), "backup", "succeeded", now.minus(Duration.ofMinutes(122)),
        now.minus(Duration.ofMinutes(120)), 2048);
    web.send(TestAgent.repositoryStats(now, 12, 5L << 20, null));

    TestServer.Enrolled d = server.enroll("db-1");
    dbId = d.hostId();
    db = TestAgent.connect(server.wsUri(), d.agentToken());
    db.send("{\"type\":\"hello\",\"protocol_version\":1,\"agent_version\":\"test-1.0\",\"restic_version\":\"0.16.4\","
        + "\"hostname\":\"db-1\",\"os\":\"" + OS_XSS.replace("/", "\\/") + "\"}");
    db.awaitFrame(f -> f.contains("\"welcome\""), WAIT);
    db.runJob(UUID.randomUUID(), "backup", "succeeded", now.minus(Duration.ofHours(30)).minusSeconds(90),
        now.minus(Duration.ofHours(30)), 1 << 20);
    UUID failed = UUID.randomUUID();
    db.send(TestAgent.started(failed, "backup", now.minus(Duration.ofMinutes(61))));
    db.awaitFrame(f -> f.contains("\"ack\"") && f.contains(failed.toString()), WAIT);
    db.send("{\"type\":\"job.finished\",\"job_id\":\"" + failed + "\",\"status\":\"failed\",\"finished_at\":\""
        + now.minus(Duration.ofMinutes(60)) + "\",\"exit_code\":1,\"error\":\"" + ERROR_XSS + "\"}");
    db.awaitFrame(f -> f.contains("\"ack\"") && f.contains(failed.toString()) && f.contains("job.finished"), WAIT);

    oldId = server.enroll("old-1").hostId();

    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    driver = new ChromeDriver(service, options);
    driver.manage().window().setSize(new Dimension(1280, 900));
    Files.createDirectories(SHOTS);
  }

  @AfterAll
  void stop() {
    if (driver != null) driver.quit();
    if (web != null) web.close();
    if (db != null) db.close();
    if (server != null) server.close();
  }

  @Test
  @Order(1)
  void aWrongTokenIsRefusedAndTheRightOneLogsIn() throws Exception {
    driver.get(base() + "/");
    assertEquals(base() + "/ui/login", driver.getCurrentUrl(), "an anonymous page request goes to the login form");
    shot("login");

    login("not-the-token");
    assertEquals("That token is not valid.", driver.findElement(By.id("message")).getText());
    assertEquals(null, driver.manage().getCookieNamed(UiRoutes.COOKIE), "no session after a wrong token");

    HttpResponse<String> refused = post("/ui/login", "token=not-the-token", null);
    assertEquals(401, refused.statusCode());
    assertTrue(refused.headers().firstValue("Set-Cookie").isEmpty());
    assertFalse(refused.body().contains("not-the-token"), "the token is never echoed");

    login(server.adminToken());
    assertEquals(base() + "/", driver.getCurrentUrl());
    assertTrue(driver.getTitle().startsWith("Fleet"), driver.getTitle());
    assertNotNull(driver.manage().getCookieNamed(UiRoutes.COOKIE));
    assertFalse(driver.getPageSource().contains(server.adminToken()), "the token is never echoed");
  }

  @Test
  @Order(2)
  void theFleetShowsEveryHostWorstFirstWithItsAgeAndState() throws Exception {
    driver.get(base() + "/");
    // repository.stats is not acked: wait until the page (refreshing itself) shows it
    wait(driver).until(d -> d.findElement(By.cssSelector("#fleet tbody tr:nth-child(3) td:nth-child(9)")).getText()
        .equals("12"));
    // one snapshot of the table (the live region is replaced every few seconds): per row, per cell, text and class
    List<List<List<String>>> rows = table();
    assertEquals(3, rows.size());
    assertEquals(List.of("db-1", "old-1", "web-1"), rows.stream().map(r -> r.get(0).get(0).lines().findFirst().get())
        .toList(), "alerts and stale backups first");

    List<List<String>> dbRow = rows.get(0);
    assertEquals("online", dbRow.get(1).get(0));
    assertTrue(dbRow.get(2).get(0).matches("30h [0-2]m ago"), "the last backup that made a snapshot: " + dbRow.get(2));
    assertEquals("bad", dbRow.get(2).get(1), "older than alerts.backup-max-age (26 h)");
    assertTrue(dbRow.get(3).get(0).startsWith("failed"), dbRow.get(3).toString());
    assertEquals("1", dbRow.get(9).get(0), "one open alert (backup_failed)");

    List<List<String>> oldRow = rows.get(1);
    assertEquals("offline", oldRow.get(1).get(0));
    assertEquals("never", oldRow.get(2).get(0));

    List<List<String>> webRow = rows.get(2);
    assertEquals("online", webRow.get(1).get(0));
    assertTrue(webRow.get(2).get(0).matches("2h [0-2]m ago"), webRow.get(2).toString());
    assertEquals("ok", webRow.get(2).get(1));
    assertTrue(webRow.get(3).get(0).startsWith("succeeded"), webRow.get(3).toString());
    assertEquals("5.0 MiB", webRow.get(7).get(0));
    assertEquals("12", webRow.get(8).get(0));

    // the filter box works in the browser, without a request
    WebElement filter = driver.findElement(By.id("filter"));
    filter.sendKeys("web");
    assertEquals(1, driver.findElements(By.cssSelector("#fleet tbody tr:not(.hidden)")).size());
    filter.clear();
    filter.sendKeys(" ");
    filter.clear();
    ((JavascriptExecutor) driver).executeScript("document.getElementById('filter').dispatchEvent(new Event('input'))");
    // sorting by name in the browser
    driver.findElement(By.cssSelector("a[data-sort=name]")).click();
    assertEquals("db-1", driver.findElement(By.cssSelector("#fleet tbody tr td a")).getText());
    driver.findElement(By.cssSelector("a[data-sort=name]")).click();
    assertEquals("web-1", driver.findElement(By.cssSelector("#fleet tbody tr td a")).getText());
    driver.get(base() + "/");
    shot("fleet");
    if ("1".equals(System.getenv("RM_UPDATE_DOCS_SCREENSHOT"))) {
      Files.copy(SHOTS.resolve("fleet.png"), Path.of("docs", "status-page.png"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Test
  @Order(3)
  void agentSuppliedMarkupIsShownAsText() throws Exception {
    driver.get(base() + "/");
    String dbRow = table().get(0).get(0).get(0);
    assertTrue(dbRow.contains(OS_XSS), dbRow);
    assertTrue(driver.findElements(By.cssSelector("#live script")).isEmpty());
    noAlertDialog();

    driver.get(base() + "/ui/hosts/" + dbId);
    assertTrue(driver.findElement(By.cssSelector(".facts")).getText().contains(OS_XSS));
    WebElement error = driver.findElement(By.cssSelector("#jobs td.error"));
    assertEquals(ERROR_XSS, error.getText());
    assertTrue(driver.findElements(By.cssSelector("#live img")).isEmpty(), "no element made of the error text");
    assertTrue(driver.findElements(By.cssSelector("#chart rect.bar")).size() >= 2, "the 30-day chart has the backups");
    noAlertDialog();
    shot("host");
  }

  @Test
  @Order(4)
  void aBackupStartedFromTheHostPageAppearsWithoutAReload() throws Exception {
    driver.get(base() + "/ui/hosts/" + webId);
    JavascriptExecutor js = driver;
    js.executeScript("window.rmMarker = 'same page';");
    driver.findElement(By.id("run-backup")).click();

    String command = web.awaitFrame(f -> f.contains("command.run"), WAIT);
    Matcher m = Pattern.compile("\"job_id\"\\s*:\\s*\"([0-9a-f-]{36})\"").matcher(command);
    assertTrue(m.find(), command);
    assertTrue(command.contains("\"kind\":\"backup\""), command);
    UUID job = UUID.fromString(m.group(1));
    Instant start = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    web.runJob(job, "backup", "succeeded", start, start.plusSeconds(3), 4096);

    wait(driver).until(d -> {
      List<WebElement> row = d.findElements(By.cssSelector("#jobs tr[data-job='" + job + "']"));
      return !row.isEmpty() && row.get(0).getText().contains("succeeded");
    });
    assertEquals("same page", js.executeScript("return window.rmMarker;"), "the page was not reloaded");
    assertEquals("The job was sent to the agent.", driver.findElement(By.id("message")).getText());
  }

  @Test
  @Order(5)
  void anAlertIsAcknowledgedFromTheAlertsPage() throws Exception {
    driver.get(base() + "/ui/alerts");
    WebElement row = driver.findElement(By.cssSelector("tr.alert"));
    assertTrue(row.getText().contains("db-1") && row.getText().contains("backup_failed"), row.getText());
    shot("alerts");
    row.findElement(By.cssSelector("button.ack")).click();
    wait(driver).until(d ->
        d.findElement(By.cssSelector("tr.alert")).getText().contains("acknowledged"));
    List<Map<String, Object>> open = server.api().openAlerts();
    assertEquals(1, open.size());
    assertNotNull(open.get(0).get("acknowledged_at"), open.toString());
  }

  @Test
  @Order(6)
  void aPostWithoutTheCsrfTokenIsRefused() throws Exception {
    String session = driver.manage().getCookieNamed(UiRoutes.COOKIE).getValue();
    assertEquals(403, post("/ui/hosts/" + oldId + "/jobs", "kind=backup", session).statusCode());
    assertEquals(403, post("/ui/hosts/" + oldId + "/jobs", "kind=backup&csrf=forged", session).statusCode());
    assertEquals(403, post("/ui/logout", "", session).statusCode());
    assertEquals(403, post("/ui/hosts/" + oldId + "/jobs", "kind=backup&csrf=" + csrf(session), null).statusCode(),
        "no session, no change");
    // the same request with the session's token goes through: the 403s were the token's doing
    HttpResponse<String> ok = post("/ui/hosts/" + oldId + "/jobs", "kind=backup&csrf=" + csrf(session), session);
    assertEquals(303, ok.statusCode());
    assertEquals("/ui/hosts/" + oldId + "?msg=offline", ok.headers().firstValue("Location").orElseThrow());
    assertEquals(400, post("/ui/hosts/" + oldId + "/jobs", "kind=restore&csrf=" + csrf(session), session).statusCode());
    assertEquals(400, post("/ui/login", "token=%zz", null).statusCode(), "a form that does not decode");
    assertEquals(413, post("/ui/login", "token=" + "a".repeat(20_000), null).statusCode(), "a form too large");
    assertEquals(404, post("/ui/alerts/no-such-alert/ack", "csrf=" + csrf(session), session).statusCode());
  }

  @Test
  @Order(7)
  void everyResponseCarriesTheSecurityHeaders() throws Exception {
    String session = driver.manage().getCookieNamed(UiRoutes.COOKIE).getValue();
    for (String path : List.of("/", "/ui/alerts", "/ui/hosts/" + webId, "/ui/login", "/?fragment=1")) {
      HttpResponse<String> r = get(path, session);
      assertEquals(200, r.statusCode(), path);
      assertEquals(UiRoutes.CSP, r.headers().firstValue("Content-Security-Policy").orElse(""), path);
      assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""), path);
      assertEquals("no-referrer", r.headers().firstValue("Referrer-Policy").orElse(""), path);
      assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(""), path);
      assertFalse(r.body().contains("style=\""), "no inline style on " + path);
      assertFalse(Pattern.compile("<script>|<script [^>]*>[^<]").matcher(r.body()).find(), "no inline script on " + path);
    }
    Matcher js = Pattern.compile("src=\"(/ui/static/app\\.js\\?v=[0-9a-f]+)\"").matcher(get("/", session).body());
    assertTrue(js.find());
    HttpResponse<String> asset = get(js.group(1), null);
    assertEquals(200, asset.statusCode());
    assertTrue(asset.headers().firstValue("Cache-Control").orElse("").contains("max-age=31536000"));
    assertTrue(asset.headers().firstValue("Content-Type").orElse("").startsWith("application/javascript"));
    assertEquals(303, get("/", null).statusCode(), "no session: to the login form");
    assertEquals("/ui/login", get("/ui/alerts", "forged-session").headers().firstValue("Location").orElse(""));
    assertEquals(404, get("/ui/hosts/not-a-host", session).statusCode());
    assertEquals(404, get("/ui/hosts/" + UUID.randomUUID(), session).statusCode());
    assertEquals(400, get("/?sort=nonsense", session).statusCode());
    assertEquals(400, get("/ui/hosts/" + webId + "?before=not-a-cursor", session).statusCode());

    HttpResponse<String> login = post("/ui/login",
        "token=" + URLEncoder.encode(server.adminToken(), StandardCharsets.UTF_8), null);
    assertEquals(303, login.statusCode());
    String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(cookie.matches(UiRoutes.COOKIE + "=[A-Za-z0-9_-]{43}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict"),
        cookie);
  }

  @Test
  @Order(8)
  void loggingOutEndsTheSession() throws Exception {
    driver.get(base() + "/");
    String session = driver.manage().getCookieNamed(UiRoutes.COOKIE).getValue();
    driver.findElement(By.cssSelector("form.logout button")).click();
    assertEquals(base() + "/ui/login?out=1", driver.getCurrentUrl());
    assertEquals(303, get("/", session).statusCode(), "the old session id no longer opens a page");
    driver.get(base() + "/ui/alerts");
    assertEquals(base() + "/ui/login", driver.getCurrentUrl());
  }

  /** Waits for a condition; the live region is replaced every few seconds, so stale elements are looked up again. */
  private static WebDriverWait wait(ChromeDriver driver) {
    WebDriverWait w = new WebDriverWait(driver, WAIT);
    w.ignoring(StaleElementReferenceException.class);
    return w;
  }

  private void login(String token) {
    driver.get(base() + "/ui/login");
    WebElement field = driver.findElement(By.id("token"));
    field.clear();
    field.sendKeys(token);
    driver.findElement(By.id("login")).click();
  }

  /** The fleet table at one instant: rows of cells, each its text and its class. */
  @SuppressWarnings("unchecked")
  private List<List<List<String>>> table() {
    return (List<List<List<String>>>) driver.executeScript("return Array.from(document.querySelectorAll("
        + "'#fleet tbody tr')).map(r => Array.from(r.cells).map(c => [c.innerText.trim(), c.className]));");
  }

  private void noAlertDialog() {
    assertThrows(NoAlertPresentException.class, () -> driver.switchTo().alert(), "no script of an agent ran");
  }

  private String csrf(String session) throws Exception {
    Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(get("/", session).body());
    assertTrue(m.find(), "the page carries its CSRF token");
    return URLEncoder.encode(m.group(1), StandardCharsets.UTF_8);
  }

  private HttpResponse<String> get(String path, String session) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(WAIT);
    if (session != null) b.header("Cookie", UiRoutes.COOKIE + "=" + session);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String form, String session) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(WAIT)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form));
    if (session != null) b.header("Cookie", UiRoutes.COOKIE + "=" + session);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String base() {
    return "http://127.0.0.1:" + server.port();
  }

  private void shot(String name) throws IOException {
    byte[] png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
    Files.write(SHOTS.resolve(name + ".png"), png);
  }

  /** Skips when {@code path} is missing, unless RM_REQUIRE_TOOLS=1, where it fails. */
  private static void requireTool(Path path, String debianPackage) {
    if (Files.isExecutable(path)) return;
    String message = path + " is missing (Debian: apt-get install " + debianPackage + ")";
    if ("1".equals(System.getenv("RM_REQUIRE_TOOLS"))) fail(message + " and RM_REQUIRE_TOOLS=1");
    Assumptions.abort(message + "; skipping");
  }
}
