package io.resticmanager.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.ConfigError;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.support.TestCerts;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentSettingsTest {
  @TempDir static Path certs;
  private static TestCerts ca;
  @TempDir Path dir;

  @BeforeAll
  static void makeCa() throws IOException {
    ca = TestCerts.authority(certs, "settings");
  }

  private AgentSettings load(String conf, Map<String, String> env) throws IOException {
    Path f = dir.resolve("agent.conf");
    Files.writeString(f, conf);
    return AgentSettings.load(Optional.of(f), env);
  }

  private ConfigError refused(String conf, Map<String, String> env) {
    return assertThrows(ConfigError.class, () -> load(conf, env));
  }

  @Test
  void theDefaultsMatchTheContract() throws IOException {
    AgentSettings s = load("", Map.of("RM_HOSTNAME", "web-01"));
    assertEquals(List.of(URI.create("http://127.0.0.1:8080")), s.serverUrls());
    assertEquals(List.of(URI.create("ws://127.0.0.1:8080/api/v1/agents/ws")), s.webSocketUrls());
    assertEquals(List.of(URI.create("http://127.0.0.1:8080/api/v1/agents/enroll")), s.enrollUrls());
    assertEquals(Path.of("./data"), s.dataDir());
    assertEquals(Path.of("./data/agent-token"), s.agentTokenFile());
    assertTrue(s.enrollmentToken().isEmpty());
    assertEquals(List.of(), s.backupPaths());
    assertEquals("restic", s.restic());
    assertEquals(new Schedule(Duration.ofHours(1), Duration.ZERO), s.schedule(JobKind.BACKUP));
    assertFalse(s.schedule(JobKind.FORGET).enabled());
    assertFalse(s.schedule(JobKind.PRUNE).enabled());
    assertEquals(Duration.ofHours(6), s.timeout(JobKind.BACKUP));
    assertEquals(Duration.ofSeconds(1), s.minBackoff());
    assertEquals(Duration.ofSeconds(60), s.maxBackoff());
    assertEquals(Duration.ofHours(6), s.statsInterval());
  }

  @Test
  void environmentVariablesWinOverTheFile() throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("RM_SERVER_URL", "https://rm.example.org/prefix/");
    env.put("RM_ENROLLMENT_TOKEN", " tok-123 ");
    env.put("RM_HOSTNAME", "db-01.example.org");
    env.put("RM_BACKUP_PATHS", "/etc, /srv/data ,,/home");
    env.put("RM_DATA_DIR", "/var/lib/rm-agent");
    AgentSettings s = load("""
        restic-manager.agent { server-url = "http://other:1", hostname = "x", backup-paths = ["/nope"] }
        """, env);
    assertEquals(List.of(URI.create("wss://rm.example.org/prefix/api/v1/agents/ws")), s.webSocketUrls());
    assertEquals(Optional.of("tok-123"), s.enrollmentToken());
    assertEquals("db-01.example.org", s.hostname());
    assertEquals(List.of("/etc", "/srv/data", "/home"), s.backupPaths());
    assertEquals(Path.of("/var/lib/rm-agent/outbox"), s.outboxDir());
  }

  @Test
  void theFileSetsSchedulesPolicyAndTimeouts() throws IOException {
    AgentSettings s = load("""
        restic-manager.agent {
          schedules.forget { interval = 1d, offset = 2h }
          schedules.prune { interval = 7d, offset = 3h }
          forget { keep-daily = 7, keep-weekly = 4 }
          timeouts.prune = 30m
          restic = "/usr/local/bin/restic"
          stats-interval = 90m
        }
        """, Map.of("RM_HOSTNAME", "h"));
    assertEquals(Duration.ofMinutes(90), s.statsInterval());
    assertEquals(new Schedule(Duration.ofDays(1), Duration.ofHours(2)), s.schedule(JobKind.FORGET));
    assertEquals(new Schedule(Duration.ofDays(7), Duration.ofHours(3)), s.schedule(JobKind.PRUNE));
    assertEquals(List.of("--keep-daily", "7", "--keep-weekly", "4"), s.forget().args());
    assertEquals(Duration.ofMinutes(30), s.timeout(JobKind.PRUNE));
    assertEquals("/usr/local/bin/restic", s.restic());
  }

  @Test
  void theEnrollmentTokenNeverAppearsInToString() throws IOException {
    AgentSettings s = load("", Map.of("RM_ENROLLMENT_TOKEN", "secret-enrollment", "RM_HOSTNAME", "h"));
    assertFalse(s.toString().contains("secret-enrollment"));
  }

  @Test
  void aBadServerUrlNamesTheKeyTheVariableAndTheValue() {
    for (String bad : List.of("ftp://x", "not a url", "http://", "http://h:1/?q=1")) {
      ConfigError e = refused("", Map.of("RM_SERVER_URL", bad, "RM_HOSTNAME", "h"));
      assertEquals("restic-manager.agent.server-url (RM_SERVER_URL)", e.key(), bad);
      assertTrue(e.getMessage().contains(bad), e.getMessage());
    }
    ConfigError creds = refused("", Map.of("RM_SERVER_URL", "http://user:s3cret@h", "RM_HOSTNAME", "h"));
    assertFalse(creds.getMessage().contains("s3cret"), creds.getMessage());
  }

  @Test
  void severalServerUrlsComeAsCommaSeparatedTextOrAListTrimmedAndEachKeptOnce() throws IOException {
    AgentSettings fromEnv = load("", Map.of("RM_HOSTNAME", "h",
        "RM_SERVER_URL", " https://rm1.example.org , https://rm2.example.org:8443/ ,,https://RM1.example.org"));
    assertEquals(List.of(URI.create("https://rm1.example.org"), URI.create("https://rm2.example.org:8443")),
        fromEnv.serverUrls());
    assertEquals(List.of(URI.create("wss://rm1.example.org/api/v1/agents/ws"),
        URI.create("wss://rm2.example.org:8443/api/v1/agents/ws")), fromEnv.webSocketUrls());
    assertEquals(List.of(URI.create("https://rm1.example.org/api/v1/agents/enroll"),
        URI.create("https://rm2.example.org:8443/api/v1/agents/enroll")), fromEnv.enrollUrls());

    AgentSettings fromList = load(
        "restic-manager.agent.server-url = [\"https://a.example.org\", \"https://b.example.org/rm\"]",
        Map.of("RM_HOSTNAME", "h"));
    assertEquals(List.of(URI.create("https://a.example.org"), URI.create("https://b.example.org/rm")),
        fromList.serverUrls());
  }

  @Test
  void anInvalidEntryOfAServerUrlListIsNamedAndAnEmptyListRefused() {
    for (String bad : List.of("ftp://b.example.org", "https://b.example.org/?x=1", "https://b.example.org/#top",
        "https://")) {
      ConfigError e = refused("", Map.of("RM_HOSTNAME", "h", "RM_SERVER_URL", "https://a.example.org, " + bad));
      assertEquals("restic-manager.agent.server-url (RM_SERVER_URL)", e.key(), bad);
      assertTrue(e.getMessage().contains("\"" + bad + "\""), e.getMessage());
    }
    ConfigError inList = refused("restic-manager.agent.server-url = [\"https://a.example.org\", \"gopher://b\"]",
        Map.of("RM_HOSTNAME", "h"));
    assertTrue(inList.getMessage().contains("\"gopher://b\""), inList.getMessage());
    ConfigError none = refused("", Map.of("RM_HOSTNAME", "h", "RM_SERVER_URL", " , "));
    assertTrue(none.getMessage().contains("names no server"), none.getMessage());
  }

  @Test
  void plainHttpToAHostThatIsNotLoopbackIsRefusedNamingTheVariableThatAllowsIt() {
    for (String url : List.of("http://10.0.0.5:8080", "http://rm.example.org", "http://[fe80::1]:8080",
        "http://127.0.0.1.example.org", "http://localhost.example.org")) {
      ConfigError e = refused("", Map.of("RM_HOSTNAME", "h", "RM_SERVER_URL", "https://a.example.org," + url));
      assertEquals("restic-manager.agent.server-url (RM_SERVER_URL)", e.key(), url);
      assertTrue(e.getMessage().contains("\"" + url + "\"") && e.getMessage().contains("unencrypted")
          && e.getMessage().contains("RM_ALLOW_INSECURE_HTTP=true"), e.getMessage());
    }
  }

  @Test
  void plainHttpIsAcceptedToLoopbackAndWhenAllowed() throws IOException {
    for (String url : List.of("http://127.0.0.1:8080", "http://127.8.9.10", "http://localhost:8080",
        "http://LOCALHOST", "http://[::1]:8080")) {
      assertEquals(List.of(URI.create(url)), load("", Map.of("RM_HOSTNAME", "h", "RM_SERVER_URL", url)).serverUrls());
    }
    AgentSettings allowed = load("", Map.of("RM_HOSTNAME", "h", "RM_SERVER_URL", "http://10.0.0.5:8080",
        "RM_ALLOW_INSECURE_HTTP", "true"));
    assertEquals(List.of(URI.create("http://10.0.0.5:8080")), allowed.serverUrls());
    assertEquals(List.of(URI.create("http://rm.example.org")),
        load("restic-manager.agent { server-url = \"http://rm.example.org\", allow-insecure-http = true }",
            Map.of("RM_HOSTNAME", "h")).serverUrls());
  }

  @Test
  void allowInsecureHttpMustBeTrueOrFalse() {
    ConfigError e = refused("", Map.of("RM_HOSTNAME", "h", "RM_ALLOW_INSECURE_HTTP", "maybe"));
    assertEquals("restic-manager.agent.allow-insecure-http (RM_ALLOW_INSECURE_HTTP)", e.key());
    assertTrue(e.getMessage().contains("\"maybe\""), e.getMessage());
  }

  @Test
  void theCaFileAddsEveryCertificateItHoldsToTheJvmTrustStore() throws Exception {
    assertEquals(ServerTrust.JVM, load("", Map.of("RM_HOSTNAME", "h")).serverTrust());
    Path chain = ca.server(TestCerts.Alg.EC).cert();
    ServerTrust trust = load("", Map.of("RM_HOSTNAME", "h", "RM_SERVER_CA_FILE", chain.toString())).serverTrust();
    assertEquals(Optional.of(chain), trust.caFile());
    assertEquals(2, trust.cas().size(), "the leaf and its CA");
    assertTrue(trust.toString().contains(chain.toString()));
    assertEquals("TLS", trust.sslContext().getProtocol());
  }

  @Test
  void aCaFileThatCannotBeReadOrHoldsNoCertificateIsRefused() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.pem"), "");
    Path keyOnly = ca.server(TestCerts.Alg.EC).key();
    Path text = Files.writeString(dir.resolve("text.pem"), "not a certificate\n");
    Path missing = dir.resolve("missing.pem");
    for (Path bad : List.of(empty, keyOnly, text, missing, dir)) {
      ConfigError e = refused("", Map.of("RM_HOSTNAME", "h", "RM_SERVER_CA_FILE", bad.toString()));
      assertEquals("restic-manager.agent.server-ca-file (RM_SERVER_CA_FILE)", e.key(), bad.toString());
      assertTrue(e.getMessage().contains("\"" + bad + "\""), e.getMessage());
    }
  }

  @Test
  void badDurationsNegativeKeepsAndOffsetsPastTheIntervalAreRefused() {
    Map<String, String> env = Map.of("RM_HOSTNAME", "h");
    ConfigError d = refused("restic-manager.agent.timeouts.backup = soon", env);
    assertEquals("restic-manager.agent.timeouts.backup", d.key());
    assertTrue(d.getMessage().contains("\"soon\""));

    assertEquals("restic-manager.agent.timeouts.check", refused("restic-manager.agent.timeouts.check = 0s", env).key());
    assertEquals("restic-manager.agent.stats-interval", refused("restic-manager.agent.stats-interval = 0s", env).key());
    assertEquals("restic-manager.agent.stats-interval", refused("restic-manager.agent.stats-interval = 6", env).key());
    ConfigError bare = refused("restic-manager.agent.schedules.backup.interval = 3600", env);
    assertEquals("restic-manager.agent.schedules.backup.interval", bare.key());
    assertTrue(bare.getMessage().contains("unit"));
    assertEquals("restic-manager.agent.schedules.backup.interval",
        refused("restic-manager.agent.schedules.backup.interval = -1h", env).key());

    ConfigError k = refused("restic-manager.agent.forget.keep-daily = -3", env);
    assertEquals("restic-manager.agent.forget.keep-daily", k.key());
    assertTrue(k.getMessage().contains("-3"));

    assertEquals("restic-manager.agent.schedules.check.offset",
        refused("restic-manager.agent.schedules.check { interval = 1h, offset = 2h }", env).key());
    assertEquals("restic-manager.agent.reconnect.max-backoff",
        refused("restic-manager.agent.reconnect { min-backoff = 10s, max-backoff = 1s }", env).key());
  }

  @Test
  void aForgetScheduleWithoutAPolicyIsRefused() {
    ConfigError e = refused("restic-manager.agent.schedules.forget.interval = 1d", Map.of("RM_HOSTNAME", "h"));
    assertEquals("restic-manager.agent.schedules.forget.interval", e.key());
    assertTrue(e.getMessage().contains("keep-"));
  }

  @Test
  void aHostNameTheServerWouldRefuseIsRefusedHere() {
    assertEquals("restic-manager.agent.hostname (RM_HOSTNAME)", refused("", Map.of("RM_HOSTNAME", "bad host!")).key());
  }

  @Test
  void withoutAHostNameTheMachinesIsUsed() throws IOException {
    AgentSettings s = load("", Map.of());
    assertTrue(AgentSettings.validHostname(s.hostname()), s.hostname());
  }

  @Test
  void aMissingOrBrokenConfigFileIsAConfigurationError() throws IOException {
    ConfigError missing = assertThrows(ConfigError.class,
        () -> AgentSettings.load(Optional.of(dir.resolve("nope.conf")), Map.of()));
    assertEquals("--config", missing.key());
    assertEquals("--config", refused("restic-manager.agent { ", Map.of()).key());
  }
}
