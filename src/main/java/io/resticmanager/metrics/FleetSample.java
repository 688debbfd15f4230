package io.resticmanager.metrics;

import io.resticmanager.fleet.AlertKind;
import java.util.List;
import java.util.Map;

/**
 * The fleet at scrape time, as {@link ServerMetrics} consumes it: every enrolled host (in any order, each
 * name once), the number of open agent connections and the open alerts per kind (absent kinds have none).
 * Immutable. Its copy of {@code hosts} costs nothing for a list that is already immutable ({@code List.of},
 * {@code List.copyOf}): {@code List.copyOf} keeps such a list as it is.
 */
public record FleetSample(List<HostSample> hosts, int agentsConnected, Map<AlertKind, Integer> openAlertsByKind) {

  public FleetSample {
    hosts = List.copyOf(hosts);
    openAlertsByKind = Map.copyOf(openAlertsByKind);
  }
}
