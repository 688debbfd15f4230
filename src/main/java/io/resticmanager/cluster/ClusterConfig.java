package io.resticmanager.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.resticmanager.config.Settings;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * Turns {@link Settings.Cluster} into Pekko's cluster and remoting settings, and joins. The static part
 * (cluster provider, Jackson bindings, the split brain resolver, sharding) is in reference.conf; this adds
 * what the operator chose: the node's address, the seed nodes, and Artery's TLS transport with PEM files
 * (Pekko's {@code RotatingKeysSSLEngineProvider}: every node proves itself with a certificate of the
 * operator's CA and accepts only peers that do, so a node of another CA cannot join).
 */
public final class ClusterConfig {
  /** The actor system's name: part of every node's address, the same on every node. */
  public static final String SYSTEM_NAME = "restic-manager";
  private static final String ENGINE = "pekko.remote.artery.ssl.rotating-keys-engine.";

  private ClusterConfig() {}

  /** Settings to lay over the rest of the configuration. */
  public static Config overlay(Settings.Cluster c) {
    Config out = ConfigFactory.empty()
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(c.host()))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(c.port()));
    List<String> seeds = new ArrayList<>();
    for (String s : c.seedNodes()) seeds.add("pekko://" + SYSTEM_NAME + "@" + s);
    out = out.withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds));
    if (c.tls()) {
      out = out
          .withValue("pekko.remote.artery.transport", ConfigValueFactory.fromAnyRef("tls-tcp"))
          .withValue("pekko.remote.artery.ssl.ssl-engine-provider",
              ConfigValueFactory.fromAnyRef("org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider"))
          .withValue(ENGINE + "cert-file", ConfigValueFactory.fromAnyRef(c.tlsCertFile().get().toString()))
          .withValue(ENGINE + "key-file", ConfigValueFactory.fromAnyRef(c.tlsKeyFile().get().toString()))
          .withValue(ENGINE + "ca-cert-file", ConfigValueFactory.fromAnyRef(c.tlsCaFile().get().toString()));
    }
    return out;
  }

  /** A node alone joins itself; with seed nodes Pekko joins them by itself. */
  public static void join(ActorSystem<?> system, Settings.Cluster c) {
    if (!c.alone()) return;
    Cluster cluster = Cluster.get(system);
    Address self = cluster.selfMember().address();
    cluster.manager().tell(Join.create(self));
  }
}
