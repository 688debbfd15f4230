package io.resticmanager.metrics;

import java.util.List;

/**
 * The rows of the per-host families of a whole fleet, rendered: for each per-host family (in
 * {@link ServerMetrics}' order) the rows of every host in name order, concatenated in blocks of a few dozen
 * hosts, each also deflated on its own for gzip. Made by {@link HostRows#render()}; immutable (its arrays are never written once made), so a scrape
 * may hand the blocks to a socket as they are while the fleet goes on changing.
 */
public final class RenderedHosts {
  private final int hosts;
  private final List<List<byte[]>> families;
  private final List<List<byte[]>> deflated;

  RenderedHosts(int hosts, List<List<byte[]>> families, List<List<byte[]>> deflated) {
    this.hosts = hosts;
    this.families = List.copyOf(families);
    this.deflated = List.copyOf(deflated);
  }

  /** How many hosts the rows are of. */
  public int hosts() {
    return hosts;
  }

  /** The blocks of per-host family {@code family}, in host name order. */
  List<byte[]> blocks(int family) {
    return families.get(family);
  }

  /** Each of {@link #blocks}, deflated on its own ({@link GzipPieces#segment}). */
  List<byte[]> deflated(int family) {
    return deflated.get(family);
  }
}
