package io.resticmanager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.resticmanager.support.TestCerts;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SettingsLoaderTest {

  @TempDir Path cwd;
  @TempDir static Path certs;

  private static TestCerts.Pair rsa;
  private static TestCerts.Pair ec;
  private static TestCerts.Pair expired;

  @BeforeAll
  static void makeCertificates() throws IOException {
    TestCerts ca = TestCerts.authority(certs, "main");
    rsa = ca.server(TestCerts.Alg.RSA);
    ec = ca.server(TestCerts.Alg.EC);
    expired = ca.expired(TestCerts.Alg.EC);
  }

  private SettingsLoader.Loaded load(Map<String, String> env) {
    return SettingsLoader.load(Optional.empty(), env, cwd);
  }

  private Settings settings(Map<String, String> env) {
    return load(env).settings();
  }

  private Settings settingsFromFile(String applicationConf) throws IOException {
    Files.writeString(cwd.resolve("application.conf"), applicationConf);
    return settings(Map.of());
  }

  private ConfigError error(Map<String, String> env) {
    ConfigError e = assertThrows(ConfigError.class, () -> load(env));
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e;
  }

  private ConfigError errorFromFile(String applicationConf) throws IOException {
    Files.writeString(cwd.resolve("application.conf"), applicationConf);
    return error(Map.of());
  }

  private static void assertNames(ConfigError e, String key, String value) {
    assertEquals(key, e.key(), e.getMessage());
    assertTrue(e.getMessage().contains(key + " = \"" + value + "\""), e.getMessage());
  }

  // --- defaults and the merged Pekko configuration ---

  @Test
  void defaultsAreTheContractsDefaults() {
    Path data = cwd.resolve("data");
    Settings expected = new Settings(
        new Settings.Http("127.0.0.1", 8080, 20000, Optional.empty()),
        data,
        new Settings.Db("jdbc:sqlite:" + data.resolve("restic-manager.db"), "", "", 8, "FULL"),
        Optional.empty(),
        List.of(),
        new Settings.Metrics(Optional.empty(), Optional.empty(), List.of(), 8),
        new Settings.Agents(Duration.ofSeconds(10), Duration.ofSeconds(90), Duration.ofSeconds(30), 1048576,
            Duration.ofHours(1), Duration.ofSeconds(30)),
        new Settings.Alerts(Duration.ofHours(26), Duration.ofMinutes(1)),
        new Settings.Jobs(Duration.ofDays(90), Duration.ofHours(1)),
        Duration.ofSeconds(5),
        new Settings.Cluster("127.0.0.1", 0, List.of(), Optional.empty(), Optional.empty(), Optional.empty(),
            Duration.ofSeconds(60)));

    Settings actual = settings(Map.of());

    assertEquals(expected, actual);
    assertFalse(actual.metrics().enabled());
  }

  @Test
  void mergedConfigCarriesThePekkoSettingsTheServerNeeds() {
    Config config = load(Map.of()).config();

    assertTrue(config.getBoolean("pekko.http.server.remote-address-attribute"));
    assertEquals(List.of("org.apache.pekko.event.slf4j.Slf4jLogger"), config.getStringList("pekko.loggers"));
    assertEquals("org.apache.pekko.event.slf4j.Slf4jLoggingFilter", config.getString("pekko.logging-filter"));
    assertEquals("INFO", config.getString("pekko.loglevel"));
    assertEquals(Duration.ofSeconds(20), config.getDuration("pekko.http.server.websocket.periodic-keep-alive-max-idle"));
    assertEquals(20000, config.getInt("pekko.http.server.max-connections"));
  }

  @Test
  void jdbcDispatcherIsAFixedThreadPoolWithOneThreadPerPooledConnection() throws IOException {
    Files.writeString(cwd.resolve("application.conf"), "restic-manager.db.pool-size = 3");
    Config dispatcher = load(Map.of()).config().getConfig("restic-manager.blocking-jdbc-dispatcher");

    assertEquals("Dispatcher", dispatcher.getString("type"));
    assertEquals("thread-pool-executor", dispatcher.getString("executor"));
    assertEquals(3, dispatcher.getInt("thread-pool-executor.fixed-pool-size"));
    assertEquals(1, dispatcher.getInt("throughput"));
  }

  @Test
  void jdbcDispatcherHasEightThreadsByDefault() {
    Config config = load(Map.of()).config();

    assertEquals(8, config.getInt("restic-manager.blocking-jdbc-dispatcher.thread-pool-executor.fixed-pool-size"));
  }

  @Test
  void pekkoSettingsSurviveAFatJarWhereLibraryReferenceConfsFollowOurs() throws IOException {
    // The shade plugin appends the project's reference.conf first and the libraries' after it.
    StringBuilder concatenated = new StringBuilder();
    List<URL> urls = Collections.list(getClass().getClassLoader().getResources("reference.conf"));
    List<URL> ours = new ArrayList<>();
    for (URL url : urls) {
      if (read(url).contains("pekko-overrides")) ours.add(url);
    }
    assertEquals(1, ours.size(), "our reference.conf is on the class path once");
    concatenated.append(read(ours.get(0))).append('\n');
    boolean sawPekkoHttp = false;
    for (URL url : urls) {
      if (ours.contains(url)) continue;
      String text = read(url);
      sawPekkoHttp |= text.contains("remote-address-attribute = off");
      concatenated.append(text).append('\n');
    }
    assertTrue(sawPekkoHttp, "pekko-http's reference.conf is on the test class path");

    Config config = SettingsLoader.load(ConfigFactory.parseString(concatenated.toString()), Optional.empty(), Map.of(), cwd)
        .config();

    assertTrue(config.getBoolean("pekko.http.server.remote-address-attribute"));
    assertEquals(List.of("org.apache.pekko.event.slf4j.Slf4jLogger"), config.getStringList("pekko.loggers"));
    assertEquals(Duration.ofSeconds(20), config.getDuration("pekko.http.server.websocket.periodic-keep-alive-max-idle"));
  }

  private static String read(URL url) throws IOException {
    try (InputStream in = url.openStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void operatorFileMayStillOverrideAPekkoSettingAtItsUsualPath() throws IOException {
    Files.writeString(cwd.resolve("application.conf"), "pekko.loglevel = DEBUG");

    assertEquals("DEBUG", load(Map.of()).config().getString("pekko.loglevel"));
  }

  @Test
  void maxConnectionsIsCopiedIntoPekkoHttp() throws IOException {
    Files.writeString(cwd.resolve("application.conf"), "restic-manager.http.max-connections = 50");

    assertEquals(50, load(Map.of()).config().getInt("pekko.http.server.max-connections"));
  }

  // --- layers ---

  @Test
  void applicationConfInTheWorkingDirectoryOverridesReference() throws IOException {
    Settings s = settingsFromFile("restic-manager { http.port = 9000, agents.offline-after = 3m }");

    assertEquals(9000, s.http().port());
    assertEquals(Duration.ofMinutes(3), s.agents().offlineAfter());
    assertEquals("127.0.0.1", s.http().host());
  }

  @Test
  void environmentOverridesTheFile() throws IOException {
    Files.writeString(cwd.resolve("application.conf"), "restic-manager.http { host = \"10.0.0.1\", port = 9000 }");

    Settings s = settings(Map.of("RM_HTTP_PORT", "9100"));

    assertEquals(9100, s.http().port());
    assertEquals("10.0.0.1", s.http().host());
  }

  @Test
  void everyDocumentedVariableSetsItsKey() throws IOException {
    Path tokenFile = Files.writeString(cwd.resolve("metrics-token"), "scrape-me\n");
    Map<String, String> env = new HashMap<>();
    env.put("RM_HTTP_HOST", "0.0.0.0");
    env.put("RM_HTTP_PORT", "8443");
    env.put("RM_DATA_DIR", "state");
    env.put("RM_DB_URL", "jdbc:postgresql://db.example:5432/rm");
    env.put("RM_DB_USER", "rm");
    env.put("RM_DB_PASSWORD", "pw");
    env.put("RM_ADMIN_TOKEN", "0123456789abcdef");
    env.put("RM_TRUSTED_PROXIES", "10.0.0.0/8");
    env.put("RM_METRICS_TOKEN_FILE", tokenFile.toString());
    env.put("RM_METRICS_TRUSTED_CIDR", "192.168.0.0/16");

    Settings s = settings(env);

    assertEquals(new Settings.Http("0.0.0.0", 8443, 20000, Optional.empty()), s.http());
    assertEquals(cwd.resolve("state"), s.dataDir());
    assertEquals("jdbc:postgresql://db.example:5432/rm", s.db().url());
    assertEquals("rm", s.db().user());
    assertEquals("pw", s.db().password());
    assertEquals(Optional.of("0123456789abcdef"), s.adminToken());
    assertEquals("10.0.0.0/8", s.trustedProxies().get(0).text());
    assertEquals(Optional.of(tokenFile), s.metrics().tokenFile());
    assertEquals("192.168.0.0/16", s.metrics().trustedCidrs().get(0).text());
  }

  @Test
  void metricsTokenVariableSetsTheToken() {
    Settings s = settings(Map.of("RM_METRICS_TOKEN", "scrape-me"));

    assertEquals(Optional.of("scrape-me"), s.metrics().token());
    assertTrue(s.metrics().enabled());
  }

  @Test
  void environmentValuesAreTakenAsPlainStringsNeverAsHocon() {
    String password = "${restic-manager.http.host} \"quoted\" # not a comment, {}";

    Settings s = settings(Map.of("RM_DB_PASSWORD", password));

    assertEquals(password, s.db().password());
  }

  @Test
  void configFileIsUsedInsteadOfTheWorkingDirectoryApplicationConf() throws IOException {
    Files.writeString(cwd.resolve("application.conf"), "restic-manager.http.port = 9000");
    Path file = Files.writeString(cwd.resolve("server.conf"), "restic-manager.http.host = \"10.1.1.1\"");

    Settings s = SettingsLoader.load(Optional.of(file), Map.of(), cwd).settings();

    assertEquals("10.1.1.1", s.http().host());
    assertEquals(8080, s.http().port());
  }

  @Test
  void relativeConfigFileIsTakenFromTheWorkingDirectory() throws IOException {
    Files.createDirectories(cwd.resolve("etc"));
    Files.writeString(cwd.resolve("etc/rm.conf"), "restic-manager.http.port = 9001");

    Settings s = SettingsLoader.load(Optional.of(Path.of("etc/rm.conf")), Map.of(), cwd).settings();

    assertEquals(9001, s.http().port());
  }

  @Test
  void missingConfigFileNamesTheFlagAndThePath() {
    Path missing = cwd.resolve("nope.conf");

    ConfigError e = assertThrows(ConfigError.class, () -> SettingsLoader.load(Optional.of(missing), Map.of(), cwd));

    assertNames(e, "--config", missing.toString());
  }

  @Test
  void unparsableConfigFileNamesTheFlagAndThePath() throws IOException {
    Path file = Files.writeString(cwd.resolve("broken.conf"), "restic-manager { http.port = ");

    ConfigError e = assertThrows(ConfigError.class, () -> SettingsLoader.load(Optional.of(file), Map.of(), cwd));

    assertNames(e, "--config", file.toString());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void substitutionsInTheFileLookUpTheGivenEnvironmentOnly() throws IOException {
    Files.writeString(cwd.resolve("application.conf"), "restic-manager.http.host = ${?LISTEN_ON}");

    assertEquals("10.9.9.9", settings(Map.of("LISTEN_ON", "10.9.9.9")).http().host());
    assertEquals("127.0.0.1", settings(Map.of()).http().host());
  }

  @Test
  void unresolvableSubstitutionIsAConfigErrorNamingFileLineAndSubstitution() throws IOException {
    ConfigError e = errorFromFile("\nrestic-manager.http.host = ${LISTEN_ON}");

    assertNames(e, cwd.resolve("application.conf") + ":2", "${LISTEN_ON}");
  }

  // --- http ---

  @Test
  void portZeroIsRejected() {
    assertNames(error(Map.of("RM_HTTP_PORT", "0")), "restic-manager.http.port (RM_HTTP_PORT)", "0");
  }

  @Test
  void port70000IsRejected() {
    assertNames(error(Map.of("RM_HTTP_PORT", "70000")), "restic-manager.http.port (RM_HTTP_PORT)", "70000");
  }

  @Test
  void nonNumericPortIsRejectedNamingTheValue() {
    ConfigError e = error(Map.of("RM_HTTP_PORT", "abc"));

    assertNames(e, "restic-manager.http.port (RM_HTTP_PORT)", "abc");
    assertTrue(e.getMessage().contains("(set by RM_HTTP_PORT)"), e.getMessage());
  }

  @Test
  void fractionalPortIsRejectedRatherThanTruncated() throws IOException {
    assertNames(errorFromFile("restic-manager.http.port = 8080.5"), "restic-manager.http.port (RM_HTTP_PORT)", "8080.5");
  }

  @Test
  void hoconTypeErrorIsAConfigErrorNamingTheFileAndLine() throws IOException {
    ConfigError e = errorFromFile("\nrestic-manager.http.port = [1]");

    assertNames(e, "restic-manager.http.port (RM_HTTP_PORT)", "[1]");
    assertTrue(e.getMessage().contains(cwd.resolve("application.conf") + ":2"), e.getMessage());
  }

  @Test
  void objectWhereAValueBelongsIsAConfigError() throws IOException {
    ConfigError e = errorFromFile("restic-manager.http.host { a = 1 }");

    assertEquals("restic-manager.http.host (RM_HTTP_HOST)", e.key());
  }

  @Test
  void parentThatIsNotAnObjectIsAConfigError() throws IOException {
    ConfigError e = errorFromFile("restic-manager.http = 5");

    assertEquals("restic-manager.http.host (RM_HTTP_HOST)", e.key());
    assertTrue(e.getMessage().contains("restic-manager.http has type NUMBER rather than OBJECT"), e.getMessage());
  }

  @Test
  void emptyHostIsRejected() {
    assertNames(error(Map.of("RM_HTTP_HOST", " ")), "restic-manager.http.host (RM_HTTP_HOST)", " ");
  }

  @Test
  void maxConnectionsBelowOneIsRejected() throws IOException {
    assertNames(errorFromFile("restic-manager.http.max-connections = 0"), "restic-manager.http.max-connections", "0");
  }

  // --- cluster ---

  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";

  @Test
  void aNodeAloneIsAClusterOfOneOnLoopbackAndAFreePort() {
    Settings.Cluster c = settings(Map.of()).cluster();

    assertTrue(c.alone());
    assertEquals("127.0.0.1", c.host());
    assertEquals(0, c.port());
    assertFalse(c.tls());
  }

  @Test
  void seedNodesOnPostgresGetTheDefaultPortAndAreKeptInOrderOnce() {
    Settings.Cluster c = settings(Map.of("RM_DB_URL", PG,
        "RM_CLUSTER_SEED_NODES", " 127.0.0.1:25520, [::1]:25521,127.0.0.1:25520 ,,node-3.example.org:25522")).cluster();

    assertEquals(List.of("127.0.0.1:25520", "[::1]:25521", "node-3.example.org:25522"), c.seedNodes());
    assertEquals(25520, c.port());
    assertEquals(25600, settings(Map.of("RM_DB_URL", PG, "RM_CLUSTER_SEED_NODES", "127.0.0.1:25520",
        "RM_CLUSTER_PORT", "25600")).cluster().port());
  }

  @Test
  void seedNodesOnSqliteAreRefusedNamingBothKeys() {
    ConfigError e = error(Map.of("RM_CLUSTER_SEED_NODES", "127.0.0.1:25520,127.0.0.1:25521"));

    assertTrue(e.getMessage().contains("restic-manager.cluster.seed-nodes (RM_CLUSTER_SEED_NODES)"), e.getMessage());
    assertTrue(e.getMessage().contains("restic-manager.db.url (RM_DB_URL)"), e.getMessage());
    assertTrue(e.getMessage().contains("PostgreSQL"), e.getMessage());
  }

  @Test
  void aSeedNodeThatIsNotHostAndPortIsNamed() {
    for (String bad : List.of("127.0.0.1", "127.0.0.1:0x50", "host:99999", "pekko://restic-manager@h:25520", ":25520")) {
      ConfigError e = error(Map.of("RM_DB_URL", PG, "RM_CLUSTER_SEED_NODES", "127.0.0.1:25520," + bad));
      assertTrue(e.getMessage().contains("restic-manager.cluster.seed-nodes (RM_CLUSTER_SEED_NODES)"), e.getMessage());
      assertTrue(e.getMessage().contains(bad.trim()), e.getMessage());
    }
  }

  @Test
  void aClusterPortBeyondLoopbackWithoutTlsIsRefused() {
    for (String host : List.of("10.0.0.5", "0.0.0.0", "node-1.example.org", "::")) {
      ConfigError e = error(Map.of("RM_CLUSTER_HOST", host));
      assertTrue(e.getMessage().contains("restic-manager.cluster.host (RM_CLUSTER_HOST) = \"" + host + "\""),
          e.getMessage());
      assertTrue(e.getMessage().contains("RM_CLUSTER_TLS_CA_FILE"), e.getMessage());
    }
    for (String host : List.of("127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]")) {
      assertEquals(host, settings(Map.of("RM_CLUSTER_HOST", host)).cluster().host());
    }
  }

  @Test
  void clusterTlsNeedsAllThreeFilesAndAReadableRsaPairOfTheCa() throws IOException {
    Path pkcs1 = TestCerts.pkcs1(rsa);
    Path ca = rsa.cert().resolveSibling("main-ca.pem");
    Map<String, String> good = Map.of("RM_CLUSTER_HOST", "10.0.0.5", "RM_CLUSTER_TLS_CERT_FILE", rsa.cert().toString(),
        "RM_CLUSTER_TLS_KEY_FILE", rsa.key().toString(), "RM_CLUSTER_TLS_CA_FILE", ca.toString());
    Settings.Cluster c = settings(good).cluster();
    assertTrue(c.tls());
    assertEquals(Optional.of(ca), c.tlsCaFile());
    assertTrue(settings(with(good, "RM_CLUSTER_TLS_KEY_FILE", pkcs1.toString())).cluster().tls());

    ConfigError missing = error(Map.of("RM_CLUSTER_TLS_CERT_FILE", rsa.cert().toString(),
        "RM_CLUSTER_TLS_KEY_FILE", rsa.key().toString()));
    assertTrue(missing.getMessage().contains("restic-manager.cluster.tls.ca-file (RM_CLUSTER_TLS_CA_FILE)"),
        missing.getMessage());
    ConfigError ecKey = error(with(with(good, "RM_CLUSTER_TLS_CERT_FILE", ec.cert().toString()),
        "RM_CLUSTER_TLS_KEY_FILE", ec.key().toString()));
    assertTrue(ecKey.getMessage().contains("RM_CLUSTER_TLS_KEY_FILE") && ecKey.getMessage().contains("RSA"),
        ecKey.getMessage());
    ConfigError mismatched = error(with(good, "RM_CLUSTER_TLS_KEY_FILE", expired.key().toString()));
    assertTrue(mismatched.getMessage().contains("RM_CLUSTER_TLS_KEY_FILE"), mismatched.getMessage());
    ConfigError notCa = error(with(good, "RM_CLUSTER_TLS_CA_FILE", rsa.key().toString()));
    assertTrue(notCa.getMessage().contains("RM_CLUSTER_TLS_CA_FILE"), notCa.getMessage());
    ConfigError noFile = error(with(good, "RM_CLUSTER_TLS_CA_FILE", cwd.resolve("nope.pem").toString()));
    assertTrue(noFile.getMessage().contains("no such file"), noFile.getMessage());
  }

  private static Map<String, String> with(Map<String, String> m, String key, String value) {
    Map<String, String> out = new java.util.HashMap<>(m);
    out.put(key, value);
    return out;
  }

  // --- TLS ---

  private static Map<String, String> tls(Path cert, Path key) {
    return Map.of("RM_TLS_CERT_FILE", cert.toString(), "RM_TLS_KEY_FILE", key.toString());
  }

  @Test
  void tlsPairWithAnRsaKeyInPkcs1FormIsAccepted() throws IOException {
    Path pkcs1 = TestCerts.pkcs1(rsa);

    Settings s = settings(tls(rsa.cert(), pkcs1));

    assertEquals(Optional.of(new Settings.Tls(rsa.cert(), pkcs1, Duration.ofMinutes(1))), s.http().tls());
  }

  @Test
  void tlsPairWithAnEcKeyInPkcs8FormIsAcceptedAndTheReloadIntervalRead() throws IOException {
    Files.writeString(cwd.resolve("application.conf"), "restic-manager.http.tls.reload-interval = 5s");

    Settings s = settings(tls(ec.cert(), ec.key()));

    assertEquals(Optional.of(new Settings.Tls(ec.cert(), ec.key(), Duration.ofSeconds(5))), s.http().tls());
  }

  @Test
  void tlsFilesAreTakenFromTheWorkingDirectory() throws IOException {
    Files.copy(rsa.cert(), cwd.resolve("cert.pem"));
    Files.copy(rsa.key(), cwd.resolve("key.pem"));

    Settings s = settingsFromFile("restic-manager.http.tls { cert-file = cert.pem, key-file = key.pem }");

    assertEquals(cwd.resolve("cert.pem"), s.http().tls().orElseThrow().certFile());
  }

  @Test
  void aCertificateWithoutAKeyIsRefusedNamingTheMissingKey() {
    ConfigError e = error(Map.of("RM_TLS_CERT_FILE", rsa.cert().toString()));

    assertNames(e, "restic-manager.http.tls.key-file (RM_TLS_KEY_FILE)", "");
    assertTrue(e.getMessage().contains("restic-manager.http.tls.cert-file (RM_TLS_CERT_FILE) is"), e.getMessage());
  }

  @Test
  void aKeyWithoutACertificateIsRefusedNamingTheMissingCertificate() {
    assertNames(error(Map.of("RM_TLS_KEY_FILE", rsa.key().toString(), "RM_TLS_CERT_FILE", "")),
        "restic-manager.http.tls.cert-file (RM_TLS_CERT_FILE)", "");
  }

  @Test
  void aMissingCertificateFileIsRefusedNamingKeyAndFile() {
    Path missing = cwd.resolve("no-such-cert.pem");

    ConfigError e = error(tls(missing, rsa.key()));

    assertNames(e, "restic-manager.http.tls.cert-file (RM_TLS_CERT_FILE)", missing.toString());
    assertTrue(e.getMessage().contains("does not exist (set by RM_TLS_CERT_FILE)"), e.getMessage());
  }

  @Test
  void anUnreadableKeyFileIsRefusedNamingKeyAndFile() throws IOException {
    // Tests run as root, so a chmod cannot make a file unreadable; a directory cannot be read as a file.
    Path directory = Files.createDirectory(cwd.resolve("key-dir"));

    assertNames(error(tls(rsa.cert(), directory)), "restic-manager.http.tls.key-file (RM_TLS_KEY_FILE)",
        directory.toString());
  }

  @Test
  void aCertificateFileThatIsNotPemIsRefusedNamingKeyAndFile() throws IOException {
    Path notPem = Files.writeString(cwd.resolve("cert.pem"), "not a certificate\n");

    assertNames(error(tls(notPem, rsa.key())), "restic-manager.http.tls.cert-file (RM_TLS_CERT_FILE)",
        notPem.toString());
  }

  @Test
  void theKeyOfAnotherCertificateIsRefusedNamingTheKeyFile() {
    ConfigError e = error(tls(rsa.cert(), expired.key()));

    assertNames(e, "restic-manager.http.tls.key-file (RM_TLS_KEY_FILE)", expired.key().toString());
  }

  @Test
  void anExpiredCertificateIsRefusedNamingTheCertificateFile() {
    ConfigError e = error(tls(expired.cert(), expired.key()));

    assertNames(e, "restic-manager.http.tls.cert-file (RM_TLS_CERT_FILE)", expired.cert().toString());
    assertTrue(e.getMessage().contains("expired at"), e.getMessage());
  }

  @Test
  void aBadPairInTheFileNamesTheFileAndLine() throws IOException {
    ConfigError e = errorFromFile("restic-manager.http.tls {\n  cert-file = \"" + expired.cert() + "\"\n  key-file = \""
        + expired.key() + "\"\n}");

    assertTrue(e.getMessage().contains("(set in " + cwd.resolve("application.conf") + ":2)"), e.getMessage());
  }

  // --- CIDRs ---

  @Test
  void badTrustedProxyEntryIsNamed() {
    ConfigError e = error(Map.of("RM_TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.300/8"));

    assertNames(e, "restic-manager.trusted-proxies (RM_TRUSTED_PROXIES)", "10.0.0.300/8");
  }

  @Test
  void badMetricsTrustedCidrEntryIsNamed() {
    ConfigError e = error(Map.of("RM_METRICS_TRUSTED_CIDR", "192.168.0.0/33"));

    assertNames(e, "restic-manager.metrics.trusted-cidr (RM_METRICS_TRUSTED_CIDR)", "192.168.0.0/33");
  }

  @Test
  void hostNameIsNotATrustedProxy() {
    assertNames(error(Map.of("RM_TRUSTED_PROXIES", "proxy.example")),
        "restic-manager.trusted-proxies (RM_TRUSTED_PROXIES)", "proxy.example");
  }

  @Test
  void ipv6AndIpv4MappedRangesAreAccepted() throws Exception {
    Settings s = settings(Map.of(
        "RM_TRUSTED_PROXIES", "fd00::/8, ::ffff:10.0.0.0/104",
        "RM_METRICS_TRUSTED_CIDR", "2001:db8::1,10.1.2.3/32"));

    assertEquals(2, s.trustedProxies().size());
    assertTrue(Cidr.anyContains(s.trustedProxies(), InetAddress.getByName("fd12::1")));
    assertTrue(Cidr.anyContains(s.trustedProxies(), InetAddress.getByName("10.200.0.1")));
    assertTrue(Cidr.anyContains(s.metrics().trustedCidrs(), InetAddress.getByName("2001:db8::1")));
    assertTrue(s.metrics().enabled());
  }

  @Test
  void trustedProxiesMayBeAHoconList() throws IOException {
    Settings s = settingsFromFile("restic-manager.trusted-proxies = [\"10.0.0.0/8\", \"fd00::/8, 172.16.0.0/12\"]");

    assertEquals(List.of("10.0.0.0/8", "fd00::/8", "172.16.0.0/12"),
        s.trustedProxies().stream().map(Cidr::text).toList());
  }

  @Test
  void badEntryInAHoconListIsNamed() throws IOException {
    ConfigError e = errorFromFile("restic-manager.metrics.trusted-cidr = [\"10.0.0.0/8\", \"10.0.0.0/x\"]");

    assertNames(e, "restic-manager.metrics.trusted-cidr (RM_METRICS_TRUSTED_CIDR)", "10.0.0.0/x");
  }

  // --- metrics ---

  @Test
  void missingTokenFileIsRejected() {
    Path missing = cwd.resolve("no-such-token");

    ConfigError e = error(Map.of("RM_METRICS_TOKEN_FILE", missing.toString()));

    assertNames(e, "restic-manager.metrics.token-file (RM_METRICS_TOKEN_FILE)", missing.toString());
  }

  @Test
  void unreadableTokenFileIsRejected() throws IOException {
    // Tests run as root, so a chmod cannot make a file unreadable; a directory cannot be read as a file.
    Path directory = Files.createDirectory(cwd.resolve("token-dir"));

    ConfigError e = error(Map.of("RM_METRICS_TOKEN_FILE", directory.toString()));

    assertNames(e, "restic-manager.metrics.token-file (RM_METRICS_TOKEN_FILE)", directory.toString());
  }

  @Test
  void emptyTokenFileIsRejected() throws IOException {
    Path empty = Files.writeString(cwd.resolve("token"), " \n");

    ConfigError e = error(Map.of("RM_METRICS_TOKEN_FILE", empty.toString()));

    assertNames(e, "restic-manager.metrics.token-file (RM_METRICS_TOKEN_FILE)", empty.toString());
  }

  @Test
  void relativeTokenFileIsKeptAsAnAbsolutePathAndMountsMetrics() throws IOException {
    Files.createDirectories(cwd.resolve("secrets"));
    Files.writeString(cwd.resolve("secrets/metrics"), "t0ken");

    Settings s = settings(Map.of("RM_METRICS_TOKEN_FILE", "secrets/metrics"));

    assertEquals(Optional.of(cwd.resolve("secrets/metrics")), s.metrics().tokenFile());
    assertTrue(s.metrics().enabled());
  }

  @Test
  void tokenAndTokenFileTogetherAreRejected() throws IOException {
    Path file = Files.writeString(cwd.resolve("token"), "from-file");

    ConfigError e = error(Map.of("RM_METRICS_TOKEN", "inline", "RM_METRICS_TOKEN_FILE", file.toString()));

    assertEquals("restic-manager.metrics.token-file (RM_METRICS_TOKEN_FILE)", e.key());
    assertFalse(e.getMessage().contains("inline"), e.getMessage());
  }

  @Test
  void maxInFlightBelowOneIsRejected() throws IOException {
    assertNames(errorFromFile("restic-manager.metrics.max-in-flight = 0"), "restic-manager.metrics.max-in-flight", "0");
  }

  // --- data dir ---

  @Test
  void missingDataDirIsCreatedAndTheWriteProbeIsRemoved() throws IOException {
    Settings s = settings(Map.of("RM_DATA_DIR", "var/lib/rm"));

    assertEquals(cwd.resolve("var/lib/rm"), s.dataDir());
    assertTrue(Files.isDirectory(s.dataDir()));
    try (var entries = Files.list(s.dataDir())) {
      assertEquals(0, entries.count());
    }
  }

  @Test
  void dataDirThatIsAFileIsRejected() throws IOException {
    Path file = Files.writeString(cwd.resolve("data"), "");

    assertNames(error(Map.of()), "restic-manager.data-dir (RM_DATA_DIR)", file.toString());
  }

  @Test
  void dataDirThatCannotBeCreatedIsRejected() throws IOException {
    // Root may write anywhere, so make the directory impossible instead: its parent is a regular file.
    Path file = Files.writeString(cwd.resolve("plain-file"), "");
    Path under = file.resolve("data");

    ConfigError e = error(Map.of("RM_DATA_DIR", under.toString()));

    assertNames(e, "restic-manager.data-dir (RM_DATA_DIR)", under.toString());
    assertTrue(e.getMessage().contains("cannot be created"), e.getMessage());
  }

  @Test
  void emptyDataDirIsRejected() {
    assertNames(error(Map.of("RM_DATA_DIR", "")), "restic-manager.data-dir (RM_DATA_DIR)", "");
  }

  // --- database ---

  @Test
  void emptyDbUrlMeansTheSqliteFileInTheAbsoluteDataDir() {
    Settings s = settings(Map.of("RM_DATA_DIR", "./state/../state", "RM_DB_URL", ""));

    assertEquals("jdbc:sqlite:" + cwd.resolve("state").resolve("restic-manager.db"), s.db().url());
    assertTrue(s.db().isSqlite());
  }

  @Test
  void postgresqlUrlIsAccepted() {
    Settings s = settings(Map.of("RM_DB_URL", "jdbc:postgresql://db:5432/rm"));

    assertEquals("jdbc:postgresql://db:5432/rm", s.db().url());
    assertFalse(s.db().isSqlite());
  }

  @Test
  void otherDbUrlSchemesAreRejected() {
    assertNames(error(Map.of("RM_DB_URL", "jdbc:mysql://db/rm")), "restic-manager.db.url (RM_DB_URL)",
        "jdbc:mysql://db/rm");
  }

  @Test
  void credentialsInsideARejectedDbUrlAreMasked() {
    ConfigError e = error(Map.of("RM_DB_URL", "jdbc:mysql://rm:hunter2@db/rm?password=hunter2&ssl=true"));

    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
    assertTrue(e.getMessage().contains("jdbc:mysql://rm:***@db/rm?password=***&ssl=true"), e.getMessage());
  }

  @Test
  void poolSizeBelowOneIsRejected() throws IOException {
    assertNames(errorFromFile("restic-manager.db.pool-size = 0"), "restic-manager.db.pool-size", "0");
  }

  @Test
  void sqliteSynchronousIsCaseInsensitiveAndStoredUpperCase() throws IOException {
    assertEquals("NORMAL", settingsFromFile("restic-manager.db.sqlite-synchronous = normal").db().sqliteSynchronous());
  }

  @Test
  void unknownSqliteSynchronousIsRejected() throws IOException {
    assertNames(errorFromFile("restic-manager.db.sqlite-synchronous = SOMETIMES"),
        "restic-manager.db.sqlite-synchronous", "SOMETIMES");
  }

  // --- durations and sizes ---

  @ParameterizedTest(name = "{0} = 0s is rejected")
  @ValueSource(strings = {
      "agents.hello-timeout", "agents.offline-after", "agents.heartbeat-interval", "agents.enrollment-token-ttl",
      "alerts.backup-max-age", "alerts.check-interval", "ask-timeout", "http.tls.reload-interval"})
  void zeroDurationIsRejected(String key) throws IOException {
    assertNames(errorFromFile("restic-manager." + key + " = 0s"), "restic-manager." + key, "0s");
  }

  @ParameterizedTest(name = "{0} = -5s is rejected")
  @ValueSource(strings = {"agents.hello-timeout", "alerts.check-interval", "ask-timeout"})
  void negativeDurationIsRejected(String key) throws IOException {
    assertNames(errorFromFile("restic-manager." + key + " = -5s"), "restic-manager." + key, "-5s");
  }

  @Test
  void durationWithoutAUnitIsRejectedRatherThanReadAsMilliseconds() throws IOException {
    assertNames(errorFromFile("restic-manager.agents.offline-after = 90"), "restic-manager.agents.offline-after", "90");
  }

  @Test
  void unparsableDurationIsRejected() throws IOException {
    assertNames(errorFromFile("restic-manager.ask-timeout = soon"), "restic-manager.ask-timeout", "soon");
  }

  @ParameterizedTest(name = "RM_JOBS_RETENTION={0}")
  @CsvSource({"0, 0", "90d, 7776000", "12h, 43200", "1 day, 86400"})
  void jobsRetentionTakesADurationOrZeroToKeepEveryJob(String text, long seconds) {
    Settings.Jobs jobs = settings(Map.of("RM_JOBS_RETENTION", text)).jobs();
    assertEquals(Duration.ofSeconds(seconds), jobs.retention());
    assertEquals(seconds == 0, jobs.keepsEverything());
  }

  @ParameterizedTest(name = "RM_JOBS_RETENTION={0} is rejected")
  @ValueSource(strings = {"90", "-1d", "0s", "forever", "1.5"})
  void aBadJobsRetentionIsRejectedNamingTheVariable(String text) {
    ConfigError e = error(Map.of("RM_JOBS_RETENTION", text));
    assertNames(e, "restic-manager.jobs.retention (RM_JOBS_RETENTION)", text);
    assertTrue(e.getMessage().contains("0 (keep every job)"), e.getMessage());
  }

  @Test
  void heartbeatIntervalMustBeShorterThanOfflineAfter() throws IOException {
    ConfigError e = errorFromFile("restic-manager.agents { heartbeat-interval = 90s, offline-after = 90s }");

    assertNames(e, "restic-manager.agents.heartbeat-interval", "90s");
  }

  @Test
  void maxFrameBytesBelowOneKibibyteIsRejected() throws IOException {
    assertNames(errorFromFile("restic-manager.agents.max-frame-bytes = 1023"), "restic-manager.agents.max-frame-bytes",
        "1023");
  }

  @Test
  void maxFrameBytesAboveSixteenMebibytesIsRejected() throws IOException {
    assertNames(errorFromFile("restic-manager.agents.max-frame-bytes = 16777217"),
        "restic-manager.agents.max-frame-bytes", "16777217");
  }

  @Test
  void maxFrameBytesAcceptsASizeWithAUnit() throws IOException {
    assertEquals(2 * 1024 * 1024, settingsFromFile("restic-manager.agents.max-frame-bytes = 2 MiB").agents().maxFrameBytes());
  }

  // --- admin token and secrets ---

  @Test
  void adminTokenShorterThanSixteenCharactersIsRejectedWithoutShowingIt() {
    ConfigError e = error(Map.of("RM_ADMIN_TOKEN", "short-secret"));

    assertNames(e, "restic-manager.admin-token (RM_ADMIN_TOKEN)", "***");
    assertFalse(e.getMessage().contains("short-secret"), e.getMessage());
  }

  @Test
  void adminTokenOfSixteenCharactersIsAccepted() {
    assertEquals(Optional.of("0123456789abcdef"), settings(Map.of("RM_ADMIN_TOKEN", "0123456789abcdef")).adminToken());
  }

  @Test
  void tokensMayBeAnyPrintableUnicodeAndLoseOnlySurroundingWhitespace() {
    Settings s = settings(Map.of(
        "RM_ADMIN_TOKEN", " \u00e4dmin t\u00f6k=en \u2713 0123456789\u3000",
        "RM_METRICS_TOKEN", "\tm\u00ebtrics  t\u00f6k=en\n"));

    assertEquals(Optional.of("\u00e4dmin t\u00f6k=en \u2713 0123456789"), s.adminToken());
    assertEquals(Optional.of("m\u00ebtrics  t\u00f6k=en"), s.metrics().token());
  }

  @Test
  void aTokenTheLocaleCouldNotDecodeIsRejectedWithoutShowingIt() {
    // What Java 17 makes of RM_ADMIN_TOKEN=\u00e4lpha-... in a process without a UTF-8 locale.
    ConfigError e = error(Map.of("RM_ADMIN_TOKEN", "\ufffd\ufffdlpha-s3cr3t-0123456789"));

    assertNames(e, "restic-manager.admin-token (RM_ADMIN_TOKEN)", "***");
    assertTrue(e.getMessage().contains("UTF-8 locale"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
  }

  @Test
  void aTokenWithAControlCharacterIsRejectedWithoutShowingIt() throws IOException {
    ConfigError e = errorFromFile("restic-manager.metrics.token = \"metrics\\ttoken-0123\"");

    assertNames(e, "restic-manager.metrics.token (RM_METRICS_TOKEN)", "***");
    assertFalse(e.getMessage().contains("token-0123"), e.getMessage());
  }

  @Test
  void pekkoLoggingTheRawTrafficIsRefused() throws IOException {
    ConfigError e = errorFromFile("pekko.http.server.log-unencrypted-network-bytes = 100");

    assertEquals("pekko.http.server.log-unencrypted-network-bytes", e.key(), e.getMessage());
    assertTrue(e.getMessage().contains("application.conf:1"), e.getMessage());
  }

  @Test
  void emptySecretsMeanUnset() {
    Settings s = settings(Map.of("RM_ADMIN_TOKEN", "", "RM_METRICS_TOKEN", "", "RM_METRICS_TOKEN_FILE", ""));

    assertEquals(Optional.empty(), s.adminToken());
    assertEquals(Optional.empty(), s.metrics().token());
    assertEquals(Optional.empty(), s.metrics().tokenFile());
    assertFalse(s.metrics().enabled());
  }

  @Test
  void secretOfTheWrongTypeIsMaskedInTheError() throws IOException {
    ConfigError e = errorFromFile("restic-manager.db.password = [\"hunter2hunter2\"]");

    assertNames(e, "restic-manager.db.password (RM_DB_PASSWORD)", "***");
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  @Test
  void secretsNeverAppearInSettingsToString() {
    String text = settings(Map.of(
        "RM_ADMIN_TOKEN", "admin-secret-0123456789",
        "RM_DB_PASSWORD", "db-secret",
        "RM_METRICS_TOKEN", "metrics-secret")).toString();

    assertFalse(text.contains("admin-secret"), text);
    assertFalse(text.contains("db-secret"), text);
    assertFalse(text.contains("metrics-secret"), text);
    assertTrue(text.contains("***"), text);
  }

  // --- the operator example and the reference page ---

  private static final List<String> VARIABLES = List.of(
      "RM_HTTP_HOST", "RM_HTTP_PORT", "RM_DATA_DIR", "RM_DB_URL", "RM_DB_USER", "RM_DB_PASSWORD", "RM_ADMIN_TOKEN",
      "RM_TRUSTED_PROXIES", "RM_METRICS_TOKEN", "RM_METRICS_TOKEN_FILE", "RM_METRICS_TRUSTED_CIDR", "RM_TLS_CERT_FILE",
      "RM_TLS_KEY_FILE", "RM_CLUSTER_HOST", "RM_CLUSTER_PORT", "RM_CLUSTER_SEED_NODES", "RM_CLUSTER_TLS_CERT_FILE",
      "RM_CLUSTER_TLS_KEY_FILE", "RM_CLUSTER_TLS_CA_FILE");

  private List<String> operatorKeys() {
    List<String> keys = load(Map.of()).config().getConfig("restic-manager").entrySet().stream()
        .map(Map.Entry::getKey)
        .filter(k -> !k.startsWith("pekko-overrides.") && !k.startsWith("blocking-jdbc-dispatcher."))
        .sorted()
        .toList();
    assertTrue(keys.containsAll(List.of("http.port", "db.sqlite-synchronous", "alerts.check-interval")), keys.toString());
    return keys;
  }

  @Test
  void operatorExampleParsesAndChangesNoDefault() {
    Path example = Path.of("application.conf").toAbsolutePath();

    SettingsLoader.Loaded fromExample = SettingsLoader.load(Optional.of(example), Map.of(), cwd);

    assertEquals(settings(Map.of()), fromExample.settings());
  }

  @Test
  void operatorExampleMentionsEveryKeyAndVariable() throws IOException {
    String example = Files.readString(Path.of("application.conf"));

    for (String key : operatorKeys()) {
      String leaf = key.substring(key.lastIndexOf('.') + 1);
      assertTrue(example.contains("# " + leaf + " = "), "application.conf shows " + key);
    }
    for (String variable : VARIABLES) {
      assertTrue(example.contains(variable), "application.conf names " + variable);
    }
  }

  @Test
  void configurationPageListsEveryKeyAndVariable() throws IOException {
    String page = Files.readString(Path.of("docs/configuration.md"));

    for (String key : operatorKeys()) {
      assertTrue(page.contains("| `" + key + "` |"), "docs/configuration.md has a row for " + key);
    }
    for (String variable : VARIABLES) {
      assertTrue(page.contains("`" + variable + "`"), "docs/configuration.md names " + variable);
    }
  }
}
