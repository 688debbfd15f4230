package io.resticmanager.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.resticmanager.fleet.Fleet;
import io.resticmanager.fleet.HostEntity;
import io.resticmanager.fleet.HostView;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Admin routes for hosts: list, get, remove, and running a job on a host's agent. The list comes from
 * every node ({@link Fleet#list}); one host from its entity, wherever it runs. A host id is a UUID: any
 * other id is answered 404 without reaching the cluster.
 */
public final class HostRoutes extends ApiDirectives {
  private final Fleet fleet;

  public HostRoutes(String adminToken, Fleet fleet) {
    super(adminToken);
    this.fleet = fleet;
  }

  public Route route() {
    return pathPrefix(segment("api").slash("v1").slash("hosts"), () -> admin(() -> concat(
        pathEnd(() -> get(() -> await(fleet.list(),
            list -> complete(json(StatusCodes.OK, ApiJson.array(list, ApiJson::host)))))),
        path(PathMatchers.segment(), id -> concat(
            get(() -> hostId(id, () -> await(fleet.get(id), reply -> complete(reply instanceof HostView h
                ? json(StatusCodes.OK, ApiJson.host(h))
                : noSuchHost())))),
            delete(() -> hostId(id, () -> await(fleet.remove(id), removed -> complete(removed.existed()
                ? HttpResponse.create().withStatus(StatusCodes.NO_CONTENT)
                : noSuchHost())))))),
        path(PathMatchers.segment().slash("jobs"), id -> post(() -> hostId(id, () -> jsonBody(body -> {
          var request = ApiJson.parseRunJob(body);
          return await(fleet.runJob(id, request.kind(), request.restore()), reply -> {
            if (reply instanceof HostEntity.JobSent sent) {
              return complete(json(StatusCodes.ACCEPTED, ApiJson.jobAccepted(sent.jobId().toString())));
            }
            if (reply == HostEntity.HostOffline.INSTANCE) {
              return complete(error(StatusCodes.CONFLICT, "host_offline",
                  "The host's agent is not connected; the job was not sent."));
            }
            return complete(noSuchHost());
          });
        })))))));
  }

  /** Runs {@code inner} only for an id that can be a host's (a UUID as enrollment makes them); 404 otherwise. */
  private Route hostId(String id, Supplier<Route> inner) {
    return isHostId(id) ? inner.get() : complete(noSuchHost());
  }

  private static HttpResponse noSuchHost() {
    return error(StatusCodes.NOT_FOUND, "not_found", "No host with that id is enrolled.");
  }
}
