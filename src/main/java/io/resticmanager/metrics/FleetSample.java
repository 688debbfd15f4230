package io.resticmanager.metrics;

import io.resticmanager.fleet.AlertKind;
import java.util.List;
import java.util.Map;

/**
 * The fleet at scrape time, as {@link ServerMetrics} consumes it: every enrolled host (in any order, each
 * name once), the number of open agent connections, the open alerts per kind (absent kinds have none)
 * and, when the fleet keeps them ({@link HostRows}), the hosts' rows already rendered; without them
 * {@link ServerMetrics} renders the hosts itself. {@code rendered} must be of exactly these hosts.
 * Immutable. Its copy of {@code hosts} costs nothing for a list that is already immutable
 * ({@code List.of}, {@code List.copyOf}): {@code List.copyOf} keeps such a list as it is.
 */
public record FleetSample(List<HostSample> hosts, int agentsConnected, Map<AlertKind, Integer> openAlertsByKind,
    RenderedHosts rendered) {

  public FleetSample {
    hosts = List.copyOf(hosts);
    openAlertsByKind = Map.copyOf(openAlertsByKind);
    if (rendered != null && rendered.hosts() != hosts.size()) {
      throw new IllegalArgumentException(rendered.hosts() + " hosts rendered for " + hosts.size() + " hosts");
    }
  }

  /** The same sample with another count of open agent connections; nothing is copied. */
  public FleetSample withAgentsConnected(int n) {
    return n == agentsConnected ? this : new FleetSample(hosts, n, openAlertsByKind, rendered);
  }

  /** A sample whose hosts {@link ServerMetrics} renders. */
  public FleetSample(List<HostSample> hosts, int agentsConnected, Map<AlertKind, Integer> openAlertsByKind) {
    this(hosts, agentsConnected, openAlertsByKind, null);
  }
}
