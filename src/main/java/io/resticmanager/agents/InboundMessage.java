package io.resticmanager.agents;

/** One WebSocket message from an agent, already collected and size-checked by the socket stream. */
public sealed interface InboundMessage {
  /** A whole text message within the size limit. */
  record Text(String text) implements InboundMessage {}

  /** A binary message (drained, not part of the protocol). */
  record Binary() implements InboundMessage {}

  /** A message over the size limit; the connection is closed with 1009. */
  record TooLarge(long limitBytes) implements InboundMessage {}
}
