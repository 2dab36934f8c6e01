"""Message bus: commands and events (frozen dataclasses), one visible handler registry, an outbox written in
the same transaction and delivered after commit; in-process by default, NATS JetStream for several workers."""

# Every event class imports this package, so whoever can make an event has the outbox writer registered with
# the store's unit of work (which cannot import the bus: it sits below it).
from openem.bus import outbox as _outbox  # noqa: E402,F401
