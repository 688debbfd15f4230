package io.resticmanager.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every host's rows of the per-host families, rendered once per change of the host and kept between
 * scrapes. Hosts are kept in name order; each family's rows are concatenated in blocks of {@link #BLOCK}
 * hosts, and {@link #render()} rebuilds only the blocks whose rows changed since it last ran: a heartbeat
 * changes one line of one family, so it costs one block of that family. Each block is also deflated once,
 * when it is built ({@link GzipPieces}). A scrape then copies and compresses nothing of the hosts' rows:
 * a fleet of 10,000 hosts is about 1,100 blocks, handed to the socket as they are.
 *
 * <p>Mutable and not thread-safe: owned by one actor (the fleet), which gives scrapes the immutable
 * {@link RenderedHosts}. Adding or removing a host moves every later host, so it rebuilds all blocks.
 */
public final class HostRows {
  /** Hosts per block: blocks of a few KiB, and few enough of them that a scrape allocates little. */
  static final int BLOCK = 64;

  private final List<Host> hosts = new ArrayList<>();
  private final Map<String, Host> byName = new HashMap<>();
  /** [family][block]; a null block is rebuilt by the next {@link #render()}. Null after a host came or went. */
  private byte[][][] blocks;
  /** [family][block]: each block deflated on its own, made with it. */
  private byte[][][] deflated;
  private RenderedHosts rendered;
  private final TextBuffer scratch = new TextBuffer(4096);

  /** One host's rows: {@code lines[ends[k-1], ends[k])} are those of per-host family {@code k}. */
  private static final class Host {
    final String name;
    int index;
    byte[] lines;
    int[] ends;

    Host(String name) {
      this.name = name;
    }
  }

  private static final Comparator<Host> BY_NAME = Comparator.comparing(h -> h.name);

  /** Where the rows of family {@code k} start in rows whose families end at {@code ends}. */
  private static int start(int[] ends, int k) {
    return k == 0 ? 0 : ends[k - 1];
  }

  /** Adds the host, or replaces what is known of the host of that name. */
  public void put(HostSample sample) {
    scratch.reset();
    int[] ends = ServerMetrics.renderHost(sample, scratch);
    byte[] lines = scratch.toByteArray();
    Host host = byName.get(sample.name());
    if (host == null) {
      host = new Host(sample.name());
      byName.put(host.name, host);
      int at = -(Collections.binarySearch(hosts, host, BY_NAME) + 1);
      hosts.add(at, host);
      reindexFrom(at);
      blocks = null;
    } else if (blocks != null) {
      for (int k = 0; k < ends.length; k++) {
        if (!Arrays.equals(host.lines, start(host.ends, k), host.ends[k], lines, start(ends, k), ends[k])) {
          blocks[k][host.index / BLOCK] = null;
          rendered = null;
        }
      }
    }
    host.lines = lines;
    host.ends = ends;
    if (blocks == null) rendered = null;
  }

  /** Forgets the host of that name, if known. */
  public void remove(String name) {
    Host host = byName.remove(name);
    if (host == null) return;
    hosts.remove(host.index);
    reindexFrom(host.index);
    blocks = null;
    rendered = null;
  }

  public int size() {
    return hosts.size();
  }

  /** The rows as they are now; the same object until something changes. */
  public RenderedHosts render() {
    if (rendered != null) return rendered;
    int families = ServerMetrics.hostFamilies();
    int count = (hosts.size() + BLOCK - 1) / BLOCK;
    if (blocks == null) {
      blocks = new byte[families][count][];
      deflated = new byte[families][count][];
    }
    List<List<byte[]>> raw = new ArrayList<>(families);
    List<List<byte[]>> zipped = new ArrayList<>(families);
    for (int k = 0; k < families; k++) {
      for (int b = 0; b < count; b++) {
        if (blocks[k][b] == null) {
          blocks[k][b] = block(k, b);
          deflated[k][b] = GzipPieces.segment(blocks[k][b]);
        }
      }
      raw.add(List.of(blocks[k]));
      zipped.add(List.of(deflated[k]));
    }
    rendered = new RenderedHosts(hosts.size(), raw, zipped);
    return rendered;
  }

  /** The rows of family {@code k} of the hosts of block {@code b}, concatenated. */
  private byte[] block(int k, int b) {
    int end = Math.min(hosts.size(), (b + 1) * BLOCK);
    int length = 0;
    for (int i = b * BLOCK; i < end; i++) {
      Host h = hosts.get(i);
      length += h.ends[k] - start(h.ends, k);
    }
    byte[] block = new byte[length];
    int at = 0;
    for (int i = b * BLOCK; i < end; i++) {
      Host h = hosts.get(i);
      int from = start(h.ends, k);
      System.arraycopy(h.lines, from, block, at, h.ends[k] - from);
      at += h.ends[k] - from;
    }
    return block;
  }

  private void reindexFrom(int from) {
    for (int i = from; i < hosts.size(); i++) hosts.get(i).index = i;
  }
}
