package io.resticmanager.metrics;

import java.util.List;

/**
 * The rows of the per-host families of a whole fleet, rendered: for each per-host family (in
 * {@link ServerMetrics}' order) the rows of every host in name order, concatenated in blocks of a few dozen
 * hosts. Made by {@link HostRows#render()}; immutable (its arrays are never written once made), so a scrape
 * may hand the blocks to a socket as they are while the fleet goes on changing.
 */
public final class RenderedHosts {
  private final int hosts;
  private final List<List<byte[]>> families;

  RenderedHosts(int hosts, List<List<byte[]>> families) {
    this.hosts = hosts;
    this.families = List.copyOf(families);
  }

  /** How many hosts the rows are of. */
  public int hosts() {
    return hosts;
  }

  /** The blocks of per-host family {@code family}, in host name order. */
  List<byte[]> blocks(int family) {
    return families.get(family);
  }
}
