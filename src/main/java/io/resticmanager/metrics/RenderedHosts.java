package io.resticmanager.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The rows of the per-host families of a whole fleet, rendered: for each per-host family (in
 * {@link ServerMetrics}' order) the rows of every host in name order, concatenated in blocks of
 * {@link HostRows#BLOCK} hosts, and, when made by {@link HostRows}, each block also deflated on its own for
 * gzip. Immutable (its arrays are never written once made), so a scrape may hand the blocks to a socket as
 * they are while the fleet goes on changing.
 */
public final class RenderedHosts {
  private final int hosts;
  private final List<List<byte[]>> families;
  private final List<List<byte[]>> deflated;

  /** {@code deflated} null when the blocks have no deflated forms. */
  RenderedHosts(int hosts, List<List<byte[]>> families, List<List<byte[]>> deflated) {
    this.hosts = hosts;
    this.families = List.copyOf(families);
    this.deflated = deflated == null ? null : List.copyOf(deflated);
  }

  /**
   * {@code hosts}, in any order, rendered once for one scrape, family by family straight into blocks (no
   * copy of each host's rows is kept, and no block is deflated: gzip compresses them as it sends them).
   * Rejects a list that names one host twice (their series would collide).
   */
  public static RenderedHosts of(List<HostSample> hosts) {
    List<HostSample> sorted = new ArrayList<>(hosts);
    sorted.sort(Comparator.comparing(HostSample::name));
    for (int i = 1; i < sorted.size(); i++) {
      if (sorted.get(i).name().equals(sorted.get(i - 1).name())) {
        throw new IllegalArgumentException(
            "host [" + sorted.get(i).name() + "] appears twice: its series would collide");
      }
    }
    TextBuffer scratch = new TextBuffer(64 * 1024);
    List<List<byte[]>> families = new ArrayList<>(ServerMetrics.hostFamilies());
    for (int k = 0; k < ServerMetrics.hostFamilies(); k++) {
      List<byte[]> blocks = new ArrayList<>();
      for (int from = 0; from < sorted.size(); from += HostRows.BLOCK) {
        scratch.reset();
        for (int i = from; i < Math.min(sorted.size(), from + HostRows.BLOCK); i++) {
          ServerMetrics.renderRows(k, sorted.get(i), scratch);
        }
        blocks.add(scratch.toByteArray());
      }
      families.add(blocks);
    }
    return new RenderedHosts(sorted.size(), families, null);
  }

  /** How many hosts the rows are of. */
  public int hosts() {
    return hosts;
  }

  /** The blocks of per-host family {@code family}, in host name order. */
  List<byte[]> blocks(int family) {
    return families.get(family);
  }

  /** Each of {@link #blocks}, deflated on its own ({@link GzipPieces#segment}); null when not made. */
  List<byte[]> deflated(int family) {
    return deflated == null ? null : deflated.get(family);
  }
}
