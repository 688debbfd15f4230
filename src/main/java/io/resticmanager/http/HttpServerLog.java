package io.resticmanager.http;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.event.BusLogging;

/**
 * The log Pekko HTTP's server layer writes to; the binding gets it with {@code logTo}. Its logger is this
 * class's name. Every line passes unchanged except the two in which Pekko 1.3 quotes the request, which
 * it replaces with a line of ours that names what happened and never quotes the request:
 * <ul>
 *   <li>{@code Illegal header: Illegal '<name>' header: … <value>} (HttpHeaderParser, for a header that
 *       does not parse into Pekko's model). Any header can carry a secret: a session cookie, a token in a
 *       {@code Referer} URL, a near miss of a bearer token. Ours names the header only. No setting does
 *       this: {@code error-logging-verbosity = simple} still quotes the offending character, {@code off}
 *       or {@code illegal-header-warnings = off} drop the warning altogether.
 *   <li>{@code Sending an 2xx 'early' response before end of request for <uri> …} (HttpServerBluePrint,
 *       when a route answers before the request body has arrived). The URI includes the query string,
 *       where a client may have put a token. No setting turns it off.
 * </ul>
 * Requests Pekko cannot parse at all are logged by {@link JsonParsingErrors}, by status only.
 */
public final class HttpServerLog extends BusLogging {
  private static final Pattern ILLEGAL_HEADER = Pattern.compile("^Illegal header: Illegal '([a-z0-9-]{1,64})' header");

  private HttpServerLog(ExtendedActorSystem system) {
    super(system.eventStream(), HttpServerLog.class.getName(), HttpServerLog.class, system.logFilter());
  }

  public static HttpServerLog create(ActorSystem<?> system) {
    return new HttpServerLog((ExtendedActorSystem) system.classicSystem());
  }

  @Override
  public void notifyWarning(String message) {
    super.notifyWarning(withoutRequestData(message));
  }

  @Override
  public void notifyWarning(Throwable cause, String message) {
    super.notifyWarning(cause, withoutRequestData(message));
  }

  /** {@code message}, or ours instead of it when it is one of the two that quote the request. */
  static String withoutRequestData(String message) {
    if (message.startsWith("Illegal header")) {
      Matcher m = ILLEGAL_HEADER.matcher(message);
      return "A request header " + (m.find() ? "[" + m.group(1) + "] " : "")
          + "does not parse and is kept as raw text (its value is not logged)";
    }
    if (message.startsWith("Sending an 2xx 'early' response")) {
      return "Answered 2xx before the request body had arrived; closing the connection after the response"
          + " (the request URI is not logged)";
    }
    return message;
  }
}
