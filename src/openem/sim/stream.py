"""Replaying a world: wire-format messages in receive order (`iter_wire_messages`) and a streamer that
POSTs them in batches to a running openem (`POST {url}/api/telemetry/batch`), in real or accelerated time."""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

PAYLOAD_FIELDS = {
    "gps": ("lat", "lon", "accuracy_m", "hdop", "speed_mps", "heading_deg", "source"),
    "rf": ("present", "rssi_dbm", "tag_id"),
    "alcohol": ("tac_gdl", "ir_skin", "temp_c"),
    "battery": ("level_pct", "charging"),
    "tamper": ("tamper_kind", "tamper_state"),
    "checkin": ("result", "lat", "lon", "accuracy_m"),
    "hmu_power": ("mains",),
    "hmu_moved": ("moved",),
    "heartbeat": (),
}
PACE_SLACK_S = 0.05  # messages due within this much real time go in the current batch
_RENAME = {"tamper_kind": "kind", "tamper_state": "state"}


def table_to_wire(table: pa.Table) -> Iterator[dict[str, Any]]:
    """Columnar rows to wire envelopes (docs/telemetry.md), null payload fields left out."""
    for batch in table.to_batches(max_chunksize=50_000):
        cols = {
            name: batch.column(name).to_pylist()
            for name in batch.schema.names
            if name not in ("device_time", "receive_time")
        }
        for name in ("device_time", "receive_time"):  # %S carries the microseconds for us timestamps
            cols[name] = pc.strftime(batch.column(name), format="%Y-%m-%dT%H:%M:%SZ").to_pylist()
        types = cols["type"]
        for i in range(batch.num_rows):
            payload = {}
            for f in PAYLOAD_FIELDS[types[i]]:
                value = cols[f][i]
                if value is not None:
                    payload[_RENAME.get(f, f)] = value
            yield {
                "v": 1,
                "device_id": cols["device_id"][i],
                "seq": cols["seq"][i],
                "type": types[i],
                "device_time": cols["device_time"][i],
                "receive_time": cols["receive_time"][i],
                "payload": payload,
            }


def iter_wire_messages(world_dir: str | Path) -> Iterator[dict[str, Any]]:
    """Every message of a written world, merged across chunk files in receive_time order."""
    parts = sorted((Path(world_dir) / "telemetry").glob("part-*.parquet"))
    streams = [table_to_wire(pq.read_table(p)) for p in parts]
    yield from heapq.merge(*streams, key=lambda m: m["receive_time"])


MAX_RETRY_AFTER_S = 60.0


def retry_after_s(value: str | None, default: float = 1.0) -> float:
    """A `Retry-After` header (seconds, or an HTTP date) as seconds to wait, within 0..MAX_RETRY_AFTER_S."""
    if not value:
        return default
    try:
        secs = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            secs = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return default
    return min(max(secs, 0.0), MAX_RETRY_AFTER_S)


def _post(
    client: Any,
    url: str,
    token: str,
    batch: list[dict[str, Any]],
    retries: int,
    sleep: Callable[[float], None],
    waited: Callable[[float], None] | None = None,
) -> None:
    """Send one batch until it is acknowledged. Back-pressure (429 or 503 with `Retry-After`) is honoured
    without limit: wait as told and send the same batch again (idempotent on device+seq), so nothing is lost;
    connection errors and other 5xx are retried `retries` times with backoff; any other 4xx is an error."""
    import httpx

    body = json.dumps(batch)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    delay = 0.5
    failures = 0
    while True:
        try:
            resp = client.post(url, content=body, headers=headers)
        except httpx.TransportError:
            resp = None
        if resp is not None:
            if resp.status_code < 400:
                return
            if resp.status_code in (429, 503) and "retry-after" in resp.headers:
                wait = retry_after_s(resp.headers.get("retry-after"))
                if waited:
                    waited(wait)
                sleep(wait)
                continue
            if resp.status_code < 500:
                raise RuntimeError(f"ingest refused the batch: HTTP {resp.status_code} {resp.text[:200]}")
        failures += 1
        if failures > retries:
            raise RuntimeError(f"ingest failing after {retries} retries")
        sleep(delay)
        delay = min(delay * 2, 10.0)


class Pacer:
    """When a message due at simulated instant `at` (epoch seconds) may go: `speed` simulated seconds per real
    second from `start` (default: the first message's instant), and never before that instant on the real clock,
    since a server refuses data dated in its future. So a fleet replayed from the past runs fast until it
    catches up with the clock, then in real time. `speed` 0: as fast as possible (still never early)."""

    def __init__(self, speed: float, start: float | None = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.speed, self.sim0, self.clock, self.wall = speed, start, clock, wall
        self.wall0 = clock()

    def wait_s(self, at: float) -> float:
        if self.sim0 is None:
            self.sim0, self.wall0 = at, self.clock()
        paced = (at - self.sim0) / self.speed - (self.clock() - self.wall0) if self.speed > 0 else 0.0
        return max(paced, at - self.wall())

    def now(self) -> float:
        """The simulated instant reached by now."""
        sim0 = self.wall() if self.sim0 is None else self.sim0
        return (
            min(self.wall(), sim0 + (self.clock() - self.wall0) * self.speed)
            if self.speed > 0
            else self.wall()
        )


def stream_world(
    world_dir: str | Path, url: str, token: str, speed: float = 60.0, limit: int | None = None, batch_size: int = 500,
    retries: int = 6, progress: Callable[[int], None] | None = None, sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
) -> int:  # fmt: skip
    """POST the world's messages in receive order; `speed` simulated seconds per real second (0 = flat out)."""
    return send_paced(
        iter_wire_messages(world_dir),
        url,
        token,
        Pacer(speed, clock=clock, wall=wall),
        limit,
        batch_size,
        retries,
        progress,
        sleep,
    )


def send_paced(
    messages: Iterable[dict[str, Any]], url: str, token: str, pacer: Pacer, limit: int | None = None,
    batch_size: int = 500, retries: int = 6, progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:  # fmt: skip
    """POST wire messages (with their `receive_time`) in batches, each when the pacer says it is due."""
    import httpx

    from openem.core.time import parse_instant

    endpoint = url.rstrip("/") + "/api/telemetry/batch"
    sent = 0
    batch: list[dict[str, Any]] = []

    with httpx.Client(timeout=30) as client:

        def flush() -> None:
            nonlocal sent, batch
            if batch:
                _post(client, endpoint, token, batch, retries, sleep)
                sent += len(batch)
                if progress:
                    progress(len(batch))
                batch = []

        for msg in messages:
            if limit is not None and sent + len(batch) >= limit:
                break
            at = parse_instant(msg["receive_time"]).timestamp()
            while (wait := pacer.wait_s(at)) > PACE_SLACK_S:
                flush()  # send what is due before waiting for the next message's time
                sleep(min(wait, 5.0))
            batch.append(msg)
            if len(batch) >= batch_size:
                flush()
        flush()
    return sent
