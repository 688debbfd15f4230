package io.resticmanager.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SessionsTest {
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final Sessions sessions = new Sessions(Duration.ofHours(12), now::get);

  @Test
  void aSessionIsFoundByItsIdUntilItExpires() {
    Sessions.Created c = sessions.create();
    assertEquals(43, c.id().length(), "256 bits in base64url");
    assertEquals(c.session(), sessions.find(c.id()).orElseThrow());
    now.addAndGet(Duration.ofHours(12).toMillis() - 1);
    assertTrue(sessions.find(c.id()).isPresent());
    now.incrementAndGet();
    assertTrue(sessions.find(c.id()).isEmpty());
    assertEquals(0, sessions.size(), "an expired session is dropped when seen");
  }

  @Test
  void idsAndCsrfTokensAreUniqueAndSeparate() {
    Sessions.Created a = sessions.create();
    Sessions.Created b = sessions.create();
    assertNotEquals(a.id(), b.id());
    assertNotEquals(a.session().csrf(), b.session().csrf());
    assertNotEquals(a.id(), a.session().csrf());
    assertTrue(sessions.find(a.session().csrf()).isEmpty(), "the CSRF token opens no session");
  }

  @Test
  void logoutEndsTheSession() {
    Sessions.Created c = sessions.create();
    sessions.remove(c.id());
    assertTrue(sessions.find(c.id()).isEmpty());
  }

  @Test
  void expiredSessionsAreSweptWhenOneIsCreated() {
    sessions.create();
    sessions.create();
    now.addAndGet(Duration.ofHours(13).toMillis());
    sessions.create();
    assertEquals(1, sessions.size());
  }

  @Test
  void theCsrfTokenMustMatchExactly() {
    Sessions.Session s = sessions.create().session();
    assertTrue(Sessions.csrfMatches(s, s.csrf()));
    assertFalse(Sessions.csrfMatches(s, null));
    assertFalse(Sessions.csrfMatches(s, ""));
    assertFalse(Sessions.csrfMatches(s, s.csrf().substring(1)));
    assertFalse(Sessions.csrfMatches(s, s.csrf() + "x"));
  }

  @Test
  void unknownOrAbsurdIdsFindNothing() {
    assertTrue(sessions.find(null).isEmpty());
    assertTrue(sessions.find("").isEmpty());
    assertTrue(sessions.find("x".repeat(10_000)).isEmpty());
  }
}
