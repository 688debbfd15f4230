package io.resticmanager.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BearerTokenTest {

  private static Optional<String> extract(String header) {
    return BearerToken.extract(Optional.of(header));
  }

  @Test
  void aBearerHeaderYieldsItsToken() {
    assertEquals(Optional.of("s3cr3t-token_1.2~+/="), extract("Bearer s3cr3t-token_1.2~+/="));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bearer abc", "BEARER abc", "BeArEr abc"})
  void theSchemeIsMatchedCaseInsensitively(String header) {
    assertEquals(Optional.of("abc"), extract(header));
  }

  @ParameterizedTest
  @ValueSource(strings = {"Bearer  abc", "Bearer\tabc", "  Bearer abc  ", "Bearer abc\t", "Bearer abc\u3000"})
  void whitespaceAroundTheSchemeAndTokenIsNotPartOfTheToken(String header) {
    assertEquals(Optional.of("abc"), extract(header));
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc def", "abc  def", "a=b", "abc==", "a=b, c=\"d\"", "\u00e4dmin t\u00f6k=en \u2713 0123456789"})
  void everythingAfterTheSchemeIsTheTokenSpacesAndEqualsSignsIncluded(String token) {
    assertEquals(Optional.of(token), extract("Bearer " + token));
    assertEquals(Optional.of(token), extract("bearer \t " + token + "  "));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", " ", "Bearer", "Bearer ", "Bearer   ", "Bearerabc", "Bearer\u3000abc",
    "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Token abc", "abc", "Bearer: abc", "B\u0435arer abc",
  })
  void anythingButABearerTokenYieldsNothing(String header) {
    assertEquals(Optional.empty(), extract(header), () -> "extracted from: " + header);
  }

  @Test
  void aMissingHeaderYieldsNothing() {
    assertEquals(Optional.empty(), BearerToken.extract(Optional.empty()));
  }

  @Test
  void aNonAsciiTokenIsExtractedAsIs() {
    assertEquals(Optional.of("\u0142\u00f3d\u017a"), extract("Bearer \u0142\u00f3d\u017a"));
  }

  @Test
  void equalTokensMatch() {
    assertTrue(BearerToken.matches("s3cr3t", "s3cr3t"));
    assertTrue(BearerToken.matches("\u0142\u00f3d\u017a", "\u0142\u00f3d\u017a"));
  }

  @Test
  void differentTokensDoNotMatch() {
    assertFalse(BearerToken.matches("s3cr3t", "s3cr3T"));
    assertFalse(BearerToken.matches("s3cr3", "s3cr3t"));
    assertFalse(BearerToken.matches("s3cr3tt", "s3cr3t"));
    assertFalse(BearerToken.matches("", "s3cr3t"));
  }

  @Test
  void tokensThatDifferOnlyAboveEightBitsDoNotMatch() {
    // U+0141 and U+0041 share their low 8 bits, as do U+4E41 and U+0041: a char-truncating compare says equal.
    assertEquals('A', (char) ('\u0141' & 0xFF));
    assertFalse(BearerToken.matches("tok\u0141n", "tokAn"));
    assertFalse(BearerToken.matches("tokAn", "tok\u0141n"));
    assertFalse(BearerToken.matches("\u4e41\u4e41", "AA"));
  }

  @Test
  void anEmptyExpectedTokenMatchesNothingNotEvenAnEmptyOne() {
    assertFalse(BearerToken.matches("", ""));
    assertFalse(BearerToken.matches("x", ""));
  }

  @Test
  void aMissingSideMatchesNothing() {
    assertFalse(BearerToken.matches(null, "s3cr3t"));
    assertFalse(BearerToken.matches("s3cr3t", null));
  }

  @Test
  void aLoneSurrogateDoesNotMatchTheQuestionMarkItWouldBeEncodedAs() {
    assertFalse(BearerToken.matches("\ud800", "?"));
    assertFalse(BearerToken.matches("?", "\ud800"));
  }
}
