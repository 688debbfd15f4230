package io.resticmanager.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The messages are Pekko HTTP 1.3.0's own, as HttpHeaderParser and HttpServerBluePrint write them. */
class HttpServerLogTest {

  @Test
  void anIllegalHeaderWarningNamesTheHeaderButNotItsValue() {
    String pekko = "Illegal header: Illegal 'sec-websocket-protocol' header: Invalid input '\u00e4', expected"
        + " tchar, OWS, listSep or 'EOI' (line 1, column 1): \u00e4dmin t\u00f6k=en";
    String ours = HttpServerLog.withoutRequestData(pekko);
    assertTrue(ours.contains("[sec-websocket-protocol]"), ours);
    assertFalse(ours.contains("\u00e4") || ours.contains("t\u00f6k"), ours);
  }

  @Test
  void anIllegalHeaderWarningWithoutAHeaderNameStillQuotesNothing() {
    String ours = HttpServerLog.withoutRequestData("Illegal header: Cookie header contained no parsable values: s=\u00e4");
    assertFalse(ours.contains("s=") || ours.contains("\u00e4"), ours);
  }

  @Test
  void anEarlyResponseWarningDoesNotQuoteTheUri() {
    String pekko = "Sending an 2xx 'early' response before end of request for http://127.0.0.1/api/v1/hosts?token=s3cr3t"
        + " received... Note that the connection will be closed after this response.";
    String ours = HttpServerLog.withoutRequestData(pekko);
    assertTrue(ours.startsWith("Answered 2xx before the request body had arrived"), ours);
    assertFalse(ours.contains("s3cr3t") || ours.contains("/api/v1/hosts"), ours);
  }

  @Test
  void anyOtherMessagePassesUnchanged() {
    String message = "Request timeout encountered for request [GET /api/v1/hosts]";
    assertEquals(message, HttpServerLog.withoutRequestData(message));
  }
}
