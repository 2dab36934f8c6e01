"""`openem worker --engine`: hold partitions, follow orders and activations, process telemetry.

Each round: renew or claim leases; pull a batch from every partition held; wait until the batch's newest
instant is `settle_s` in the past (an order change stamped before that instant has committed by then);
read the order and activation changes each engine lacks; apply them and process the batch in event-time
order; commit alerts + checkpoint; acknowledge. A batch on which the engine raises is redelivered and retried
from the checkpoint; after `failures.ATTEMPTS` failed rounds it is parked (an engine rejection, acknowledged)
and the partition carries on without it (decision 0017). A change with no telemetry after it is applied in memory and
reaches the checkpoint with the partition's next batch; until then a new owner finds it again.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openem.scale.failures import ATTEMPTS
from openem.scale.follow import OrderFollower, horizon, process_in_order
from openem.scale.partitions import (
    commit_batch,
    park_batch,
    partition_of,
    restore_partition_engine,
    stream_name,
    subject,
    tele_prefix,
    try_lease,
)
from openem.store.db import Database

log = logging.getLogger("openem.scale")


@dataclass
class Held:
    engine: Any
    sub: Any
    fresh: bool = True  # just taken: compare everything with what is in force before its first batch
    messages: list[Any] = field(default_factory=list)  # pulled, not yet acknowledged


async def run_engine_worker(
    db: Database,
    url: str,
    partitions: int,
    *,
    prefix: str = "openem",
    lease_s: float = 5.0,
    stop: asyncio.Event | None = None,
    batch: int = 500,
    owner: str | None = None,
    settle_s: float = 1.0,
    full_every_s: float = 60.0,
    report: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Hold as many partitions as are free, follow their orders, process their messages, renew leases;
    until `stop`. `report` receives a line for each partition taken and each change applied."""
    import nats
    from nats.errors import TimeoutError as NatsTimeout

    from openem.bus import outbox
    from openem.bus.nats import ensure_stream

    outbox.install(db)
    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    say = report or (lambda line: log.info(line))
    stream = stream_name(prefix)
    stop = stop or asyncio.Event()
    follower = OrderFollower(db, lambda ref: partition_of(ref, partitions), full_every_s=full_every_s)
    nc = await nats.connect(url, max_reconnect_attempts=3)
    js = nc.jetstream()
    await ensure_stream(js, stream, tele_prefix(prefix))
    held: dict[int, Held] = {}
    stats = {"messages": 0, "alerts": 0, "takeovers": 0, "changes": 0, "parked": 0}
    tries: Counter[int] = Counter()  # failed rounds in a row per partition (decision 0017)
    try:
        while not stop.is_set():
            for k in range(partitions):  # claim free or expired partitions; renew our own
                ok = await asyncio.to_thread(try_lease, db, k, owner, lease_s)
                if ok and k not in held:
                    engine = await asyncio.to_thread(restore_partition_engine, db, k)
                    gc.freeze()  # the restored state is long-lived: keep the collector's pauses off the alert path
                    sub = await js.pull_subscribe(subject(prefix, k), durable=f"engine-p{k}", stream=stream)
                    held[k] = Held(engine, sub)
                    stats["takeovers"] += 1
                    say(f"partition {k} taken by {owner}")
                elif not ok and k in held:
                    await _drop(held.pop(k))  # lost the lease (e.g. paused too long): stop processing it
            for h in held.values():
                try:
                    h.messages = await h.sub.fetch(batch, timeout=0.2)
                except (TimeoutError, NatsTimeout):
                    h.messages = []
            payloads = {k: [json.loads(m.data)["payload"] for m in h.messages] for k, h in held.items()}
            newest = max((horizon(p) for p in payloads.values() if p), default=None)
            # an order change stamped before `newest` must have committed before we look: let it settle
            if newest is not None:
                await asyncio.sleep(min(settle_s, max(0.0, newest + settle_s - time.time())))
            # every change found is applied in this round, so the next comparison sees an up-to-date engine
            found = await asyncio.to_thread(
                follower.changes, {k: h.engine for k, h in held.items() if not h.fresh}
            )
            found.update(
                await asyncio.to_thread(
                    follower.changes, {k: h.engine for k, h in held.items() if h.fresh}, takeover=True
                )
            )
            for k, h in list(held.items()):
                h.fresh = False
                changes = found.get(k, [])
                for c in changes:
                    say(f"partition {k}: {c.describe()}")
                stats["changes"] += len(changes)
                try:
                    if h.messages:
                        alerts = await asyncio.to_thread(commit_batch, db, k, h.engine, payloads[k], changes)
                    elif changes:
                        alerts = await asyncio.to_thread(process_in_order, h.engine, [], changes)
                    else:
                        continue
                except Exception as exc:  # noqa: BLE001 - the engine may hold uncommitted state: reload it
                    log.exception(
                        "partition batch failed; reloading from its checkpoint", extra={"partition": k}
                    )
                    tries[k] += 1
                    parked = tries[k] >= ATTEMPTS and h.messages
                    if parked:  # decision 0017: park the batch, carry on from the checkpoint without it
                        await asyncio.to_thread(park_batch, db, k, payloads[k], exc)
                        for m in h.messages:
                            await m.ack()
                        stats["parked"] += len(h.messages)
                        tries[k] = 0
                    await _drop(held.pop(k), nak=not parked)
                    continue
                tries[k] = 0
                for m in h.messages:
                    await m.ack()
                stats["messages"] += len(h.messages)
                stats["alerts"] += len(alerts)
    finally:
        await nc.close()
    return stats


async def _drop(h: Held, nak: bool = False) -> None:
    """Stop processing a partition: its unacknowledged messages go back to the stream for the next holder."""
    try:
        for m in h.messages if nak else ():
            await m.nak()
        await h.sub.unsubscribe()
    except Exception:  # noqa: BLE001 - the broker redelivers after the ack wait anyway
        log.warning("could not release a partition's subscription cleanly")
