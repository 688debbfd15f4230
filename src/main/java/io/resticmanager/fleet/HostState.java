package io.resticmanager.fleet;

import io.resticmanager.agents.AgentConnection;
import io.resticmanager.jobs.JobKind;
import io.resticmanager.store.AlertRow;
import java.util.EnumMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/** One host's live state. Mutable, owned by {@link Fleet}, never shared outside it. Times are epoch millis. */
final class HostState {
  final String id;
  final String name;
  final long enrolledAt;
  long lastSeen;
  boolean lastSeenDirty;
  String agentVersion;
  String resticVersion;
  String os;
  ActorRef<AgentConnection.Command> connection;
  final Map<JobKind, Long> lastJob = new EnumMap<>(JobKind.class);
  final Map<JobKind, Long> lastSuccess = new EnumMap<>(JobKind.class);
  long lastBackupAdded = -1;
  /** When the backup that {@link #lastBackupAdded} comes from finished; 0 when unknown (after a restart). */
  long lastBackupAddedAt;
  final Map<AlertKind, AlertRow> openAlerts = new EnumMap<>(AlertKind.class);

  HostState(String id, String name, long enrolledAt, long lastSeen, String agentVersion, String resticVersion,
      String os) {
    this.id = id;
    this.name = name;
    this.enrolledAt = enrolledAt;
    this.lastSeen = lastSeen;
    this.agentVersion = agentVersion;
    this.resticVersion = resticVersion;
    this.os = os;
  }

  boolean online() {
    return connection != null;
  }
}
