package io.resticmanager.http;

import io.resticmanager.store.Database;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /healthz} (the process runs) and {@code /readyz} (the database answers a real query). */
public final class HealthRoutes extends AllDirectives {
  private final Database db;

  public HealthRoutes(Database db) {
    this.db = db;
  }

  public Route route() {
    return concat(
        path("healthz", () -> get(() -> complete("ok"))),
        path("readyz", () -> get(() -> onSuccess(db.ping(), ok -> ok
            ? complete("ready")
            : complete(StatusCodes.SERVICE_UNAVAILABLE, "database not answering")))));
  }
}
