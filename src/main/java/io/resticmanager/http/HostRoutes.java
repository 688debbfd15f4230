package io.resticmanager.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.resticmanager.fleet.Fleet;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** Admin routes for hosts: list, get, remove, and running a job on a host's agent. Asks {@link Fleet}. */
public final class HostRoutes extends ApiDirectives {
  private final ActorRef<Fleet.Command> fleet;
  private final Duration askTimeout;
  private final Scheduler scheduler;

  public HostRoutes(String adminToken, ActorRef<Fleet.Command> fleet, Duration askTimeout, Scheduler scheduler) {
    super(adminToken);
    this.fleet = fleet;
    this.askTimeout = askTimeout;
    this.scheduler = scheduler;
  }

  public Route route() {
    return pathPrefix(segment("api").slash("v1").slash("hosts"), () -> admin(() -> concat(
        pathEnd(() -> get(() -> await(AskPattern.ask(fleet, Fleet.GetHosts::new, askTimeout, scheduler),
            list -> complete(json(StatusCodes.OK, ApiJson.array(list.hosts(), ApiJson::host)))))),
        path(PathMatchers.segment(), id -> concat(
            get(() -> await(AskPattern.ask(fleet, Fleet.GetHosts::new, askTimeout, scheduler), list -> list.hosts()
                .stream().filter(h -> h.id().equals(id)).findFirst()
                .map(h -> complete(json(StatusCodes.OK, ApiJson.host(h))))
                .orElseGet(() -> complete(noSuchHost(id))))),
            delete(() -> await(
                AskPattern.<Fleet.Command, Fleet.Removed>ask(
                    fleet, r -> new Fleet.RemoveHost(id, r), askTimeout, scheduler),
                removed -> complete(removed.existed()
                    ? HttpResponse.create().withStatus(StatusCodes.NO_CONTENT)
                    : noSuchHost(id)))))),
        path(PathMatchers.segment().slash("jobs"), id -> post(() -> jsonBody(body -> {
          var kind = ApiJson.parseRunJob(body);
          return await(AskPattern.<Fleet.Command, Fleet.RunJobReply>ask(
              fleet, r -> new Fleet.RunJob(id, kind, r), askTimeout, scheduler), reply -> {
                if (reply instanceof Fleet.JobSent sent) {
                  return complete(json(StatusCodes.ACCEPTED, ApiJson.jobAccepted(sent.jobId().toString())));
                }
                if (reply instanceof Fleet.HostOffline) {
                  return complete(error(StatusCodes.CONFLICT, "host_offline",
                      "The host's agent is not connected; the job was not sent."));
                }
                return complete(noSuchHost(id));
              });
        }))))));
  }

  private static HttpResponse noSuchHost(String id) {
    return error(StatusCodes.NOT_FOUND, "not_found", "No host with that id is enrolled.");
  }
}
