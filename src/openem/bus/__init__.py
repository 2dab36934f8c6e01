"""Message bus: commands and events (frozen dataclasses), one visible handler registry, an outbox written in
the same transaction and delivered after commit; in-process by default, NATS JetStream for several workers."""
