package io.resticmanager.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resticmanager.config.Settings;
import io.resticmanager.support.Await;
import io.resticmanager.support.ClusterNodes;
import io.resticmanager.support.Exposition;
import io.resticmanager.support.TestCerts;
import io.resticmanager.support.TestDatabases;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster port is a door (issue 13, item 4): nodes with certificates of the operator's CA form a cluster
 * over Artery's TLS transport; a node whose certificate another CA signed cannot join, even when it trusts
 * the cluster's CA itself.
 */
class ClusterTlsIT {
  /** Pekko's TLS transport accepts a peer whose certificate shares a subject name with its own. */
  private static final List<String> NAMES = List.of("dns:restic-manager-cluster", "ip:127.0.0.1");

  @TempDir Path dir;
  private Settings.Db pg;

  @AfterEach
  void dropSchema() {
    if (pg != null) TestDatabases.dropPostgresSchema(pg);
  }

  @Test
  void nodesOfTheOperatorsCaFormAClusterAndANodeOfAnotherCaCannotJoin() throws Exception {
    TestCerts ca = TestCerts.authority(dir.resolve("ca"), "cluster");
    TestCerts other = TestCerts.authority(dir.resolve("other"), "intruder");
    List<TestCerts.Pair> pairs = List.of(ca.issue(TestCerts.Alg.RSA, "node-0", NAMES, null),
        ca.issue(TestCerts.Alg.RSA, "node-1", NAMES, null));
    TestCerts.Pair intruder = other.issue(TestCerts.Alg.RSA, "node-x", NAMES, null);
    pg = TestDatabases.freshPostgresSchema();
    Map<String, String> db = Map.of("RM_DB_URL", pg.url(), "RM_DB_USER", pg.user());

    try (ClusterNodes c = ClusterNodes.start(dir.resolve("nodes"), 2, db, "", Map.of(),
        i -> tls(pairs.get(i), ca.caCert()))) {
      assertTrue(c.allOutput().contains("Remoting started with transport [Artery tls-tcp]"), c.allOutput());

      ClusterNodes.Another x = c.startAnother("intruder", tls(intruder, ca.caCert()));
      // The intruder keeps trying its seeds, and every handshake is refused.
      Await.until(Duration.ofSeconds(60), () -> x.process().outputText().contains("SSLHandshakeException")
          || c.allOutput().contains("SSLHandshakeException"));
      Await.until(Duration.ofSeconds(60), () -> countOf(c.allOutput(), "SSLHandshakeException") >= 3);
      for (int i : c.live()) {
        Exposition m = c.api(i).metrics();
        assertEquals(2, m.one("restic_manager_cluster_members", Map.of("status", "up")).number());
        assertEquals(0, m.one("restic_manager_cluster_members", Map.of("status", "joining")).number());
        assertEquals(0, m.one("restic_manager_cluster_members", Map.of("status", "weaklyup")).number());
      }
      assertEquals(0, x.api().metrics().one("restic_manager_cluster_members", Map.of("status", "up")).number(),
          "the intruder is in no cluster");
    }
  }

  private static Map<String, String> tls(TestCerts.Pair pair, Path ca) {
    return Map.of("RM_CLUSTER_TLS_CERT_FILE", pair.cert().toString(), "RM_CLUSTER_TLS_KEY_FILE", pair.key().toString(),
        "RM_CLUSTER_TLS_CA_FILE", ca.toString());
  }

  private static int countOf(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) n++;
    return n;
  }
}
