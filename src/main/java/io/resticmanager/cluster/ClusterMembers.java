package io.resticmanager.cluster;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The cluster's members as this node sees them, counted by member status in lower case ({@code up},
 * {@code leaving}, …) plus {@code unreachable}: the values of {@code restic_manager_cluster_members}.
 * Reads the cluster's current state, which Pekko keeps as an immutable snapshot; never blocks.
 */
public final class ClusterMembers {
  private ClusterMembers() {}

  public static Map<String, Integer> count(Cluster cluster) {
    Map<String, Integer> out = new HashMap<>();
    var state = cluster.state();
    for (Member m : state.getMembers()) out.merge(m.status().toString().toLowerCase(Locale.ROOT), 1, Integer::sum);
    out.put("unreachable", state.getUnreachable().size());
    return out;
  }
}
