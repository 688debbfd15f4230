package io.resticmanager.http;

import io.resticmanager.store.Page;
import io.resticmanager.store.StoreOverloadedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Query;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.japi.Pair;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Directives shared by the API routes: JSON replies and errors, the admin bearer check (constant time),
 * reading a JSON body into a 400 on bad input, and completing from a future with a timeout turned into
 * 503. Holds only the admin token, which it never logs or echoes.
 */
public class ApiDirectives extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(ApiDirectives.class);

  private final String adminToken;

  protected ApiDirectives(String adminToken) {
    this.adminToken = adminToken;
  }

  public static HttpResponse json(StatusCode status, String body) {
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
  }

  /** The contract's error body {@code {"error","message"}}. */
  public static HttpResponse error(StatusCode status, String code, String message) {
    return json(status, ApiJson.error(code, message));
  }

  public static HttpResponse unauthorized(String message) {
    return error(StatusCodes.UNAUTHORIZED, "unauthorized", message)
        .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", Optional.empty())));
  }

  /** Whether {@code presented} is the admin token (constant time). */
  protected boolean isAdminToken(String presented) {
    return BearerToken.matches(presented, adminToken);
  }

  /** Whether {@code id} can be a host's: a UUID in the form enrollment makes them (lower-case, 8-4-4-4-12). */
  public static boolean isHostId(String id) {
    try {
      return UUID.fromString(id).toString().equals(id);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Runs {@code inner} only for {@code Authorization: Bearer <admin token>}; 401 otherwise. */
  protected Route admin(Supplier<Route> inner) {
    return optionalHeaderValueByName("Authorization", header -> {
      Optional<String> token = BearerToken.extract(header);
      if (token.isPresent() && isAdminToken(token.get())) return inner.get();
      return complete(unauthorized("A valid admin bearer token is required."));
    });
  }

  /** Reads the body as text and hands it to {@code inner}; a {@link ApiJson.BadRequest} becomes 400. */
  protected Route jsonBody(Function<String, Route> inner) {
    return entity(Unmarshaller.entityToString(), body -> {
      try {
        return inner.apply(body);
      } catch (ApiJson.BadRequest e) {
        return complete(error(StatusCodes.BAD_REQUEST, "bad_request", e.getMessage()));
      }
    });
  }

  /**
   * Completes with what {@code future} yields; a timeout (an actor or the store not answering in time)
   * is 503, any other failure a 500 without details.
   */
  protected <T> Route await(CompletionStage<T> future, Function<T, Route> inner) {
    return onComplete(future, t -> {
      if (t.isSuccess()) return inner.apply(t.get());
      Throwable e = t.failed().get();
      Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof TimeoutException || cause instanceof StoreOverloadedException) {
        return complete(error(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", "The server is busy; try again."));
      }
      log.warn("Request failed: {}", cause.toString());
      return complete(error(StatusCodes.INTERNAL_SERVER_ERROR, "internal", "The request could not be completed."));
    });
  }

  /** Parses {@code limit}: 1..max, default {@code def}; anything else is a 400 naming the value. */
  protected Route limitParameter(int def, int max, Function<Integer, Route> inner) {
    return parameterOptional("limit", raw -> {
      if (raw.isEmpty()) return inner.apply(def);
      try {
        int n = Integer.parseInt(raw.get());
        if (n >= 1 && n <= max) return inner.apply(n);
      } catch (NumberFormatException e) {
        // fall through to the 400
      }
      return complete(error(StatusCodes.BAD_REQUEST, "bad_request",
          "invalid parameter \"limit\": must be a whole number from 1 to " + max));
    });
  }

  /**
   * Parses {@code limit} as {@link #limitParameter} and the cursor {@code before}; a cursor this server did
   * not make is a 400.
   */
  protected Route pageParameters(int def, int max, BiFunction<Integer, Optional<Page.Cursor>, Route> inner) {
    return limitParameter(def, max, limit -> parameterOptional("before", raw -> {
      if (raw.isEmpty()) return inner.apply(limit, Optional.empty());
      Optional<Page.Cursor> cursor = Page.Cursor.decode(raw.get());
      if (cursor.isEmpty()) {
        return complete(error(StatusCodes.BAD_REQUEST, "bad_request",
            "invalid parameter \"before\": not a cursor from this list's Link header"));
      }
      return inner.apply(limit, cursor);
    }));
  }

  /**
   * An optional parameter that must be one of {@code allowed} (a 400 listing them otherwise), handed to
   * {@code inner} as given.
   */
  protected Route choiceParameter(String name, List<String> allowed, Function<Optional<String>, Route> inner) {
    return parameterOptional(name, raw -> {
      if (raw.isEmpty() || allowed.contains(raw.get())) return inner.apply(raw);
      return complete(error(StatusCodes.BAD_REQUEST, "bad_request",
          "invalid parameter \"" + name + "\": must be one of " + String.join(", ", allowed)));
    });
  }

  /**
   * A page as a JSON array; when more rows remain, a {@code Link: <…&before=C>; rel="next"} header: this
   * request's path and query with the page's cursor as {@code before}.
   */
  protected <T> Route completePage(Page<T> page, Function<T, String> toJson) {
    HttpResponse body = json(StatusCodes.OK, ApiJson.array(page.rows(), toJson));
    if (page.next().isEmpty()) return complete(body);
    return extractUri(uri -> {
      List<Pair<String, String>> params = new ArrayList<>();
      for (Pair<String, String> p : uri.query().toList()) {
        if (!p.first().equals("before")) params.add(p);
      }
      params.add(Pair.create("before", page.next().get().encode()));
      @SuppressWarnings("unchecked")
      Query query = Query.create(params.toArray(new Pair[0]));
      String next = uri.path() + "?" + query.render(HttpCharsets.UTF_8);
      return complete(body.addHeader(RawHeader.create("Link", "<" + next + ">; rel=\"next\"")));
    });
  }
}
