package io.resticmanager.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.ActorIdentity;
import org.apache.pekko.actor.Identify;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/** Finds a host's live connection actors, which AgentSocket spawns as /system/agent-{hostId}-{n}. */
public final class ConnectionActors {
  private ConnectionActors() {}

  /** One lookup: every connection actor of {@code hostId} that answers within 300 ms. */
  public static List<ActorRef<Object>> of(TestServer server, TestProbe<Object> probe, String hostId) {
    server.server().system().classicSystem().actorSelection("/system/agent-" + hostId + "-*")
        .tell(new Identify(hostId), Adapter.toClassic(probe.getRef()));
    List<ActorRef<Object>> found = new ArrayList<>();
    while (true) {
      Object o;
      try {
        o = probe.receiveMessage(Duration.ofMillis(300));
      } catch (AssertionError none) {
        return found;
      }
      ActorIdentity id = (ActorIdentity) o;
      if (id.getActorRef().isPresent()) found.add(Adapter.toTyped(id.getActorRef().get()));
    }
  }
}
