package io.resticmanager.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.resticmanager.fleet.Fleet;
import io.resticmanager.store.AlertStore;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** Alerts: list by status (default open), newest first and paged like jobs; acknowledge (an acknowledged alert stays open). */
public final class AlertRoutes extends ApiDirectives {
  private static final int MAX_LIMIT = 1000;

  private final AlertStore alerts;
  private final Fleet fleet;

  public AlertRoutes(String adminToken, AlertStore alerts, Fleet fleet) {
    super(adminToken);
    this.alerts = alerts;
    this.fleet = fleet;
  }

  public Route route() {
    return pathPrefix(segment("api").slash("v1").slash("alerts"), () -> admin(() -> concat(
        pathEnd(() -> get(() -> choiceParameter("status", List.of("open", "resolved", "all"), status ->
            pageParameters(100, MAX_LIMIT, (limit, before) -> await(
                alerts.list(AlertStore.Filter.valueOf(status.orElse("open").toUpperCase(Locale.ROOT)), limit, before),
                page -> completePage(page, ApiJson::alert)))))),
        path(PathMatchers.segment().slash("ack"), id -> post(() ->
            await(alerts.acknowledge(id, System.currentTimeMillis()), row -> row
                .map(a -> {
                  fleet.acknowledged(a);
                  return complete(json(StatusCodes.OK, ApiJson.alert(a)));
                })
                .orElseGet(() -> complete(error(StatusCodes.NOT_FOUND, "not_found", "No alert with that id.")))))))));
  }
}
