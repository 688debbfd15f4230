package io.resticmanager.fleet;

import io.resticmanager.store.HostStore;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Node-local: keeps every enrolled host's {@link HostEntity} running somewhere, so that offline and
 * staleness alerts fire for hosts whose agent never connects, and start again on another node when the
 * node running them goes. Sharding starts an entity only when a message reaches it; so this wakes every
 * stored host at start, a few seconds after a member has left or been removed (its shards have then
 * been handed off or are being re-allocated: one wake at 2 s and another at 10 s, because a message
 * that reaches a shard before the coordinator has re-allocated it may go to the old home), and every
 * {@code interval} as a backstop. Waking a running entity costs one message and changes nothing.
 */
public final class HostKeeper {
  private static final Duration SOON = Duration.ofSeconds(2);
  private static final Duration LATER = Duration.ofSeconds(10);

  private HostKeeper() {}

  private sealed interface Command {}

  private enum WakeAll implements Command { INSTANCE }

  private record MembershipChanged(ClusterEvent.MemberEvent event) implements Command {}

  private record Loaded(List<String> ids, Throwable failure) implements Command {}

  /** Takes no messages from outside. */
  public static Behavior<Void> create(HostStore store, Fleet fleet, Duration interval) {
    return Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers -> {
      ActorRef<ClusterEvent.MemberEvent> events = ctx.messageAdapter(ClusterEvent.MemberEvent.class,
          MembershipChanged::new);
      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(events, ClusterEvent.MemberEvent.class));
      timers.startTimerWithFixedDelay("backstop", WakeAll.INSTANCE, interval);
      ctx.getSelf().tell(WakeAll.INSTANCE);
      return Behaviors.receive(Command.class)
          .onMessage(MembershipChanged.class, m -> {
            if (m.event() instanceof ClusterEvent.MemberRemoved || m.event() instanceof ClusterEvent.MemberExited) {
              timers.startSingleTimer("soon", WakeAll.INSTANCE, SOON);
              timers.startSingleTimer("later", WakeAll.INSTANCE, LATER);
            }
            return Behaviors.same();
          })
          .onMessageEquals(WakeAll.INSTANCE, () -> {
            ctx.pipeToSelf(store.ids(), Loaded::new);
            return Behaviors.same();
          })
          .onMessage(Loaded.class, m -> {
            if (m.failure() != null) {
              ctx.getLog().warn("Could not read the hosts to keep them watched; retrying: {}", m.failure().toString());
              timers.startSingleTimer("retry", WakeAll.INSTANCE, SOON);
            } else {
              m.ids().forEach(fleet::wake);
            }
            return Behaviors.same();
          })
          .build();
    })).unsafeCast();
  }
}
