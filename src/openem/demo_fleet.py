"""The demo's simulated fleet: a synthetic world for today is loaded (devices, activations, orders) and
its telemetry is sent to the running server over HTTP, like a real gateway: everything up to now at once
(the morning's backlog), then each message when it is due, in real time."""

from __future__ import annotations

import argparse
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from openem.config import Settings
from openem.core.time import local_date
from openem.store.db import Database

log = logging.getLogger("openem.demo")


def load_world_into(db: Database, world: Any, now: datetime) -> tuple[dict[str, int], str]:
    """Devices and activations as fitted; clean orders active, defective ones left as drafts with their errors.
    Returns the counts and a gateway token for sending the world's telemetry."""
    from openem.auth.service import issue_token
    from openem.devices.service import activate, register_devices
    from openem.orders.seeding import load_orders

    counts = {"orders_active": 0, "orders_with_errors": 0, "activations": 0}
    with db.uow() as uow:
        register_devices(uow.session, actor="demo", devices=world.devices.to_dict("records"))
        active_refs, with_errors = load_orders(uow.session, world.orders, actor="demo", now=now)
        counts["orders_active"], counts["orders_with_errors"] = len(active_refs), with_errors
        for act in world.activations.to_dict("records"):
            if act["order_ref"] not in active_refs:
                continue  # a defective order is not fitted: its devices' messages are flagged no_activation
            act = {k: (None if v is None or str(v) == "NaT" else v) for k, v in act.items()}
            try:
                activate(uow.session, actor="demo", activation=act)
                counts["activations"] += 1
            except Exception as exc:  # noqa: BLE001 - a conflicting simulated fitting is skipped, not fatal
                log.warning("activation skipped", extra={"activation": act.get("activation_id"), "error": str(exc)})
        token = issue_token(uow.session, actor="demo", name="demo-gateway", device_scope="demo-gateway", days=2)
    return counts, token


def stream_fleet(settings: Settings, db: Database, args: argparse.Namespace) -> None:
    from openem.sim import generate_world
    from openem.sim.stream import table_to_wire

    now = datetime.now(UTC)
    # start yesterday so the server has a day of history (sent at once) before the real-time part
    print(f"Simulating {args.wearers} wearers from yesterday 07:00 ...", flush=True)
    world = generate_world(wearers=args.wearers, days=args.days + 1, seed=7,
                           start=local_date(now) - timedelta(days=1))
    counts, token = load_world_into(db, world, now)
    app_live = getattr(args, "_live", None)
    if app_live is not None:
        app_live.load()
    print(f"Fleet loaded: {counts}. Streaming telemetry (backlog first, then in real time).", flush=True)
    table = world.telemetry.sort_by("receive_time") if hasattr(world.telemetry, "sort_by") else world.telemetry
    if not hasattr(table, "to_batches"):
        import pyarrow as pa

        table = pa.Table.from_pandas(table.sort_values("receive_time"), preserve_index=False)
    url = f"http://{args.host}:{args.port}/api/telemetry/batch"
    sent = 0
    batch: list[dict[str, Any]] = []
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        for msg in table_to_wire(table):
            due = datetime.fromisoformat(msg["receive_time"].replace("Z", "+00:00"))
            wait = (due - datetime.now(UTC)).total_seconds()
            if wait > 0 or len(batch) >= 500:
                if batch:
                    _post(client, url, batch)
                    sent += len(batch)
                    batch = []
                if wait > 0:
                    time.sleep(min(wait, 60))
            msg.pop("receive_time", None)
            batch.append(msg)
        if batch:
            _post(client, url, batch)
            sent += len(batch)
    print(f"Fleet finished: {sent} messages sent.", flush=True)


def _post(client: httpx.Client, url: str, batch: list[dict[str, Any]]) -> None:
    body = json.dumps(batch)
    for attempt in range(5):
        try:
            r = client.post(url, content=body)
            if r.status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5 * 2**attempt)
