package io.resticmanager.fleet;

import io.resticmanager.cluster.CborSerializable;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.jobs.RestoreSpec;
import java.util.UUID;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * What a host's entity says to its agent's socket, on whichever node that socket is. An agent
 * connection accepts it through a message adapter, so the entity never depends on the socket's actor.
 *
 * <p>Also the directory of sockets each node keeps ({@link #DIRECTORY}, found through the receptionist):
 * an entity that starts (after a hand-off, or on another node when its node was lost) asks every node's
 * directory to have its host's socket, if one holds it, say hello to the new entity again.
 */
public sealed interface AgentLink extends CborSerializable {

  /** A newer connection of the same host took over: close with 4000. */
  enum Replaced implements AgentLink { INSTANCE }

  /** The host was removed and its token revoked: close with 1008. */
  enum Revoked implements AgentLink { INSTANCE }

  /** The host's entity found the agent silent past the deadline: close. */
  enum Silent implements AgentLink { INSTANCE }

  /** Send {@code command.run} for a new job; {@code restore} is null for kinds other than restore. */
  record RunJob(UUID jobId, JobKind kind, RestoreSpec restore) implements AgentLink {}

  /** Key of each node's socket directory. */
  ServiceKey<Locate> DIRECTORY = ServiceKey.create(Locate.class, "agent-sockets");

  /** To a node's socket directory: if a socket of this host is open here, have it tell {@code hostId}'s entity hello again. */
  record Locate(String hostId) implements CborSerializable {}
}
