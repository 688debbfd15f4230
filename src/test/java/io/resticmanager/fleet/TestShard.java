package io.resticmanager.fleet;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Stands in for sharding in tests, for one entity: starts it at the first message, forwards to it, and
 * on {@link ClusterSharding.Passivate} holds further messages, sends the entity its stop message and,
 * once it has stopped, starts a new incarnation for what was held (or for the next message), as a shard
 * does. The entity gets this actor as its shard.
 */
final class TestShard {
  private TestShard() {}

  /** {@code entity} makes an incarnation, given the shard to passivate through. */
  static Behavior<HostEntity.Command> of(Function<ActorRef<ClusterSharding.ShardCommand>, Behavior<HostEntity.Command>> entity) {
    return Behaviors.<Object>setup(ctx -> {
      ActorRef<ClusterSharding.ShardCommand> self = ctx.getSelf().unsafeUpcast();
      List<HostEntity.Command> held = new ArrayList<>();
      @SuppressWarnings("unchecked")
      ActorRef<HostEntity.Command>[] current = new ActorRef[1];
      boolean[] passivating = new boolean[1];
      Runnable start = () -> {
        current[0] = ctx.spawnAnonymous(entity.apply(self));
        ctx.watch(current[0]);
      };
      return Behaviors.receive(Object.class)
          .onMessage(HostEntity.Command.class, m -> {
            if (passivating[0]) {
              held.add(m);
            } else {
              if (current[0] == null) start.run();
              current[0].tell(m);
            }
            return Behaviors.same();
          })
          .onMessage(ClusterSharding.Passivate.class, m -> {
            passivating[0] = true;
            current[0].tell(HostEntity.HandOff.INSTANCE);
            return Behaviors.same();
          })
          .onSignal(Terminated.class, t -> {
            current[0] = null;
            passivating[0] = false;
            if (!held.isEmpty()) {
              start.run();
              held.forEach(current[0]::tell);
              held.clear();
            }
            return Behaviors.same();
          })
          .build();
    }).unsafeCast();
  }
}
