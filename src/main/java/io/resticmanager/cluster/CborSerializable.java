package io.resticmanager.cluster;

/**
 * Marks every message that may cross from one cluster node to another: entity commands, their replies
 * and what the node views answer each other. Bound to Pekko's Jackson CBOR serializer in reference.conf
 * ({@code pekko.actor.serialization-bindings}); Java serialization stays off. Every implementation is a
 * record or an enum of plain values, {@code ActorRef}s and other such messages.
 */
public interface CborSerializable {}
