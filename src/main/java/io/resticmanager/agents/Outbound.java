package io.resticmanager.agents;

/** The sending side of one agent socket, as the {@link AgentConnection} sees it. */
public interface Outbound {
  /**
   * Queues a text frame; false when the agent is not reading and the buffer is full. True, and the frame
   * dropped, once the socket is closing or has ended (the actor hears of the end separately).
   */
  boolean offer(String text);

  /** Sends the queued frames, then a close frame with {@code code}, and ends the socket. */
  void close(int code);

  /** Ends the socket at once (TCP reset), without waiting for queued frames or a close handshake. */
  void abort();
}
