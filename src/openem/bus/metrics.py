"""Prometheus metrics of the bus, shown at /metrics: failures as they happen, and what is parked."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

#: stage: "outbox" (in-process handlers or the publish), "consumer" (a broker consumer's handlers),
#: "unavailable" (the broker was down: retried without counting against the message)
FAILURES = Counter(
    "openem_bus_delivery_failures_total", "Failed deliveries of bus messages", ["topic", "stage"]
)
PARKED_TOTAL = Counter("openem_bus_parked_total", "Messages parked after repeated failures", ["topic"])
PARKED = Gauge("openem_bus_parked_messages", "Messages parked now, waiting for an operator to retry them")
HELD = Gauge(
    "openem_bus_held_messages", "Messages waiting behind a parked message about the same order or person"
)
DELIVERED = Counter(
    "openem_bus_deliveries_total",
    "Outbox messages delivered, by topic and channel (inprocess, nats)",
    ["topic", "channel"],
)
OUTBOX_PENDING = Gauge(
    "openem_outbox_pending_messages", "Outbox messages waiting to be delivered (not parked)"
)
OUTBOX_OLDEST = Gauge(
    "openem_outbox_oldest_pending_seconds", "Age of the oldest outbox message waiting to be delivered"
)
