package io.resticmanager.fleet;

import io.resticmanager.cluster.CborSerializable;
import io.resticmanager.metrics.FleetSample;
import io.resticmanager.metrics.HostRows;
import io.resticmanager.metrics.HostSample;
import io.resticmanager.store.HostStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Node-local: the hosts whose {@link HostEntity} runs on this node, as each entity last told it. Keeps
 * what this node's {@code /metrics} shows of them (the hosts' samples and their rows, rendered once per
 * change of a host in blocks, see {@link HostRows}), answers the other nodes' views for the admin API's
 * host list ({@link ListLive}, registered with the receptionist under {@link #KEY}), and saves the hosts'
 * last-seen times in one transaction every 15 s and when asked to {@link Flush}. Sees no other node's
 * hosts and no agent traffic: only what its entities publish.
 */
public final class NodeHosts extends AbstractBehavior<NodeHosts.Command> {
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "node-hosts");
  private static final Duration FLUSH_EVERY = Duration.ofSeconds(15);

  public sealed interface Command extends CborSerializable {}

  /** From a local entity: the host as it is now. Never crosses nodes. */
  public record Put(HostView view, HostSample sample, Set<AlertKind> openAlerts) implements Command {}

  /** From a local entity: it stopped (hand-off, removal). Never crosses nodes. */
  public record Gone(String hostId) implements Command {}

  /** Replies with what {@code /metrics} shows of this node's hosts. */
  public record GetSample(ActorRef<FleetSample> replyTo) implements Command {}

  /**
   * Replies with what the entities know of this node's hosts that the database may not have yet (online,
   * last seen, the versions of the latest hello), a page of at most {@link #PAGE} hosts in id order after
   * {@code after} ("" for the first); asked by any node. A host's name and enrolment come from the
   * database. Pages keep each reply under Artery's frame size
   * ({@code pekko.remote.artery.advanced.maximum-frame-size}, 256 KiB), which one reply of a node's
   * thousands of hosts would exceed.
   */
  public record ListLive(String after, ActorRef<LiveHosts> replyTo) implements Command {}

  /** A host in a page of a view's hosts: its id, which orders the pages, and when it was last heard from. */
  public interface Listed {
    String id();

    long lastSeenAt();
  }

  /** A page of a view's hosts, in id order; {@code more} when hosts after the last one remain. */
  public interface ListedPage<H extends Listed> {
    List<H> hosts();

    boolean more();
  }

  /** One host as its entity knows it. */
  public record Live(String id, boolean online, long lastSeenAt, String agentVersion, String resticVersion,
      String os) implements CborSerializable, Listed {}

  /** A page of {@link ListLive}. */
  public record LiveHosts(List<Live> hosts, boolean more) implements CborSerializable, ListedPage<Live> {}

  /**
   * Replies with what the status page shows of this node's hosts ({@link HostStatus}) after {@code after}, paged
   * like {@link ListLive} and for the same reason when {@code paged}; asked by any node. The node's own
   * {@link Fleet} asks unpaged: a local reply crosses no frame.
   */
  public record ListStatus(String after, boolean paged, ActorRef<HostStatuses> replyTo) implements Command {}

  /** A page of {@link ListStatus}. */
  public record HostStatuses(List<HostStatus> hosts, boolean more) implements CborSerializable, ListedPage<HostStatus> {}

  /** Per host in a {@link HostStatuses} page: field names, numbers and the two maps of job times in CBOR. */
  static final int STATUS_OVERHEAD = 512;

  /** Hosts per page of {@link LiveHosts} at most. */
  public static final int PAGE = 1000;
  /**
   * A page ends before its text (ids, versions, os in UTF-8, plus {@link #ENTRY_OVERHEAD} per host for
   * CBOR's field names and numbers) would pass this: a quarter of Artery's 256 KiB frame, whatever the
   * agents wrote in their hello.
   */
  static final int PAGE_BYTES = 64 * 1024;
  static final int ENTRY_OVERHEAD = 96;

  /** Saves pending last-seen times; replies after the commit. */
  public record Flush(ActorRef<Done> replyTo) implements Command {}

  /** Render the rows of the hosts changed since the last rendering (sent to self once per batch of changes). */
  private enum RenderRows implements Command { INSTANCE }

  private enum FlushTick implements Command { INSTANCE }

  private record Flushed(Map<String, Long> saved, ActorRef<Done> replyTo, Throwable failure) implements Command {}

  private record Entry(HostView view, HostSample sample, Set<AlertKind> openAlerts) {}

  public static Behavior<Command> create(HostStore store) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      return new NodeHosts(ctx, timers, store);
    }));
  }

  private final HostStore store;
  /** By host id, in id order for the pages of {@link ListLive}. */
  private final TreeMap<String, Entry> hosts = new TreeMap<>();
  /** Last-seen times not yet saved, by host id. Kept after a host has gone until they are saved. */
  private final Map<String, Long> unsaved = new HashMap<>();
  /** The last-seen time last saved (or loaded) per host, so an unchanged time is not saved again. */
  private final Map<String, Long> saved = new HashMap<>();
  /** What {@code /metrics} shows of this node's hosts; null after any change to it. */
  private FleetSample sample;
  /**
   * Every host's rows of {@code /metrics}, kept rendered. Hosts changed since are in {@link #unrendered}
   * and are rendered by a {@link RenderRows} this actor sends itself when the first of them changes: after
   * the change is complete, and spread over time rather than all at the next scrape.
   */
  private final HostRows rows = new HostRows();
  private final Map<String, HostSample> unrendered = new HashMap<>();

  private NodeHosts(ActorContext<Command> ctx, TimerScheduler<Command> timers, HostStore store) {
    super(ctx);
    this.store = store;
    timers.startTimerWithFixedDelay(FlushTick.INSTANCE, FLUSH_EVERY);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Put.class, this::onPut)
        .onMessage(Gone.class, this::onGone)
        .onMessage(GetSample.class, this::onGetSample)
        .onMessage(ListLive.class, this::onListLive)
        .onMessage(ListStatus.class, this::onListStatus)
        .onMessageEquals(RenderRows.INSTANCE, () -> {
          renderRows();
          return this;
        })
        .onMessageEquals(FlushTick.INSTANCE, () -> flush(null))
        .onMessage(Flush.class, m -> flush(m.replyTo()))
        .onMessage(Flushed.class, this::onFlushed)
        .build();
  }

  private Behavior<Command> onPut(Put m) {
    HostView v = m.view();
    Entry before = hosts.put(v.id(), new Entry(v, m.sample(), m.openAlerts()));
    if (before == null) {
      saved.putIfAbsent(v.id(), v.lastSeenAt());
    }
    Long known = saved.get(v.id());
    if (v.lastSeenAt() > 0 && (known == null || v.lastSeenAt() > known)) unsaved.put(v.id(), v.lastSeenAt());
    if (before == null || before.sample() != m.sample()) {
      if (unrendered.isEmpty()) getContext().getSelf().tell(RenderRows.INSTANCE);
      unrendered.put(v.id(), m.sample());
      sample = null;
    }
    return this;
  }

  private Behavior<Command> onGone(Gone m) {
    Entry e = hosts.remove(m.hostId());
    if (e != null) {
      unrendered.remove(m.hostId());
      rows.remove(e.view().name());
      sample = null;
    }
    if (!unsaved.containsKey(m.hostId())) saved.remove(m.hostId());
    return this;
  }

  /**
   * The same sample for every scrape until something in it changes; rebuilt, it reuses unchanged hosts'
   * samples and rows, and renders the rows of hosts changed since the last {@link RenderRows}.
   */
  private Behavior<Command> onGetSample(GetSample m) {
    if (sample == null) {
      renderRows();
      HostSample[] out = new HostSample[hosts.size()];
      Map<AlertKind, Integer> byKind = new EnumMap<>(AlertKind.class);
      int i = 0;
      for (Entry e : hosts.values()) {
        for (AlertKind k : e.openAlerts()) byKind.merge(k, 1, Integer::sum);
        out[i++] = e.sample();
      }
      // List.of copies the array once into an immutable list, which FleetSample then keeps as it is.
      sample = new FleetSample(List.of(out), 0, byKind, rows.render());
    }
    m.replyTo().tell(sample);
    return this;
  }

  private Behavior<Command> onListLive(ListLive m) {
    m.replyTo().tell(page(m.after(), true,
        v -> ENTRY_OVERHEAD + utf8(v.id()) + utf8(v.agentVersion()) + utf8(v.resticVersion()) + utf8(v.os()),
        e -> {
          HostView v = e.view();
          return new Live(v.id(), v.online(), v.lastSeenAt(), v.agentVersion(), v.resticVersion(), v.os());
        },
        LiveHosts::new));
    return this;
  }

  private Behavior<Command> onListStatus(ListStatus m) {
    m.replyTo().tell(page(m.after(), m.paged(),
        v -> STATUS_OVERHEAD + utf8(v.id()) + utf8(v.name()) + utf8(v.agentVersion()) + utf8(v.resticVersion())
            + utf8(v.os()),
        e -> HostStatus.of(e.view(), e.sample()),
        HostStatuses::new));
    return this;
  }

  /**
   * This node's hosts after {@code after} in id order, each made by {@code as}, into the reply {@code page}
   * makes of them and whether hosts remain. When {@code paged} the page ends before {@link #PAGE} hosts or
   * before their text, by {@code size}, passes {@link #PAGE_BYTES}; else it holds every host.
   */
  private <H, P> P page(String after, boolean paged, ToIntFunction<HostView> size, Function<Entry, H> as,
      BiFunction<List<H>, Boolean, P> page) {
    List<H> out = new ArrayList<>(paged ? Math.min(PAGE, hosts.size()) : hosts.size());
    int bytes = 0;
    for (Entry e : hosts.tailMap(after, false).values()) {
      if (paged) {
        int next = size.applyAsInt(e.view());
        if (out.size() == PAGE || (!out.isEmpty() && bytes + next > PAGE_BYTES)) {
          return page.apply(List.copyOf(out), true);
        }
        bytes += next;
      }
      out.add(as.apply(e));
    }
    return page.apply(List.copyOf(out), false);
  }

  private static int utf8(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  /** Renders the rows of the hosts changed since the last time, in name order (so that new hosts are appended). */
  private void renderRows() {
    if (unrendered.isEmpty()) return;
    List<HostSample> changed = new ArrayList<>(unrendered.values());
    changed.sort(Comparator.comparing(HostSample::name));
    for (HostSample s : changed) rows.put(s);
    unrendered.clear();
  }

  private Behavior<Command> flush(ActorRef<Done> replyTo) {
    if (unsaved.isEmpty()) {
      if (replyTo != null) replyTo.tell(Done.getInstance());
      return this;
    }
    Map<String, Long> batch = Map.copyOf(unsaved);
    getContext().pipeToSelf(store.saveLastSeen(batch), (ok, failure) -> new Flushed(batch, replyTo, failure));
    return this;
  }

  private Behavior<Command> onFlushed(Flushed m) {
    if (m.failure() != null) {
      getContext().getLog().warn("Could not store last-seen times: {}", m.failure().toString());
    } else {
      Set<String> gone = new HashSet<>();
      for (Map.Entry<String, Long> e : m.saved().entrySet()) {
        if (unsaved.remove(e.getKey(), e.getValue())) {
          if (hosts.containsKey(e.getKey())) saved.put(e.getKey(), e.getValue()); else gone.add(e.getKey());
        }
      }
      gone.forEach(saved::remove);
    }
    if (m.replyTo() != null) m.replyTo().tell(Done.getInstance());
    return this;
  }
}
