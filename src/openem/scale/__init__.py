"""Scale-out of the monitoring engine across worker processes through NATS JetStream.

- Orders are split into P partitions by a stable hash of the order reference; each message is routed to
  the partition of the order its activation belongs to (by device id when it has no activation).
- The server, after storing a batch, publishes each new message to `<prefix>.tele.p<k>` (message id
  `device:seq`, so JetStream drops a re-publish).
- `openem worker --engine` processes claim partitions through leases in the database. For each partition they
  hold, they restore the engine from the partition's last checkpoint, pull its messages, and in ONE
  transaction store the new alerts (plus `AlertRaised` events in the outbox) and the new checkpoint; only
  then do they acknowledge the messages. A worker killed at any point loses nothing (unacknowledged messages
  are redelivered) and duplicates nothing (the checkpoint remembers the alert ids already raised, and the
  alerts table is keyed by the deterministic alert id).
- A lease not renewed in time (a killed worker) is taken over by another worker.
- Workers follow orders and activations while they run (`follow.py`, docs/decisions/0008): each round they
  compare what their engines hold with what is in force in the database and apply the difference, cut into
  the telemetry at the instant each change takes effect.

- A batch the engine keeps failing on is retried from the checkpoint, then parked as an engine rejection
  (`failures.py`, decision 0017: the same policy as the in-server engine's).

Modules: `partitions.py` (names, tables, leases, checkpoints, the server's publisher), `follow.py` (the
reconciler of order and activation changes, shared with the in-server engine), `failures.py` (the input-failure
policy), `position.py` (the in-server engine's position in the telemetry store), `worker.py` (the worker loop).
"""

from typing import Any

from openem.scale.partitions import (
    EngineCheckpointRow,
    EngineLeaseRow,
    TelemetryPublisher,
    commit_batch,
    load_partition_engine,
    partition_of,
    restore_partition_engine,
    stream_name,
    subject,
    tele_prefix,
    try_lease,
)

__all__ = [
    "EngineCheckpointRow",
    "EngineLeaseRow",
    "TelemetryPublisher",
    "commit_batch",
    "load_partition_engine",
    "partition_of",
    "restore_partition_engine",
    "run_engine_worker",
    "stream_name",
    "subject",
    "tele_prefix",
    "try_lease",
]


def __getattr__(name: str) -> Any:
    # the worker loop (and the monitoring engine behind it) is imported only by those who run it
    if name == "run_engine_worker":
        from openem.scale.worker import run_engine_worker

        return run_engine_worker
    raise AttributeError(name)
