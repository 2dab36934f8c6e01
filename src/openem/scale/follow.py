"""The reconciler: partition workers and the in-server engine follow orders and activations while they run
(docs/decisions/0008, 0017), the same way, so they give the same alerts.

Level-triggered, not edge-triggered: an engine does not count on seeing every order event once. It compares
what its engine holds (each order's version, whether it has ended, each activation) with what the database
says is in force, and applies the difference. A change is therefore applied when, and only when, the
engine does not yet have it:
- killed before the checkpoint that includes a change commits: the next owner restores the older checkpoint,
  sees the difference again and applies it (nothing lost);
- the checkpoint includes it: a restored engine already has that version, so there is no difference
  (nothing applied twice).

Changes carry the instant they take effect (`at`). `process_in_order` cuts a batch of telemetry at those
instants: messages with an earlier event time are judged by the rules before the change, later ones after.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from openem.core.time import parse_instant, utcnow
from openem.devices.queries import activation_probe, all_activations
from openem.field.queries import corrected_pins
from openem.monitoring.model import Activation
from openem.orders.queries import ENDED, LIVE, SUSPENDED, OrderInForce, order_documents, orders_in_force_since
from openem.store.db import Database

OrderState = OrderInForce  # the version of an order in force (the name the reconciler's rules use)
ALWAYS = -math.inf  # a change that applies to every message not yet processed


@dataclasses.dataclass(frozen=True)
class Change:
    kind: str  # "order" (accepted or varied), "end", "activation" (started, ended or corrected)
    key: str  # order ref or activation id
    at: float  # epoch seconds from which the change holds; ALWAYS for new orders and activations
    data: dict[str, Any]

    def describe(self) -> str:
        version = f" v{self.data.get('version')}" if self.kind == "order" else ""
        return f"{self.kind} {self.key}{version}"


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value is not None else ALWAYS


# ---- pure: what differs ------------------------------------------------------------------------------
def order_differences(
    engine: Any, states: Iterable[OrderState], pins: dict[str, dict[str, Any]] | None = None
) -> list[tuple[OrderState, str]]:
    """(state, kind) for each order whose version in force the engine lacks ("order") or whose ending it
    has not applied ("end"). An ended order the engine never had is nothing to monitor. `pins`: addresses
    whose pin was corrected by hand (field.queries.corrected_pins): an order held with older pins is "order"."""
    out: list[tuple[OrderState, str]] = []
    for s in states:
        spec = engine.orders.get(s.ref)
        have = spec.doc.get("version") if spec is not None else None
        ended = spec is not None and "_ended_at" in spec.doc
        stale_pins = (
            pins is not None
            and spec is not None
            and spec.doc.get("_pins_at") != (pins.get(s.ref) or {}).get("at")
        )
        if s.status in LIVE and (have != s.version or ended or stale_pins):
            out.append((s, "order"))
        elif s.status in (ENDED, SUSPENDED) and spec is not None:  # a suspension ends judging until resumed
            if have != s.version:
                out.append((s, "order"))
            if not ended or have != s.version:
                out.append((s, "end"))
    return out


def _suspended_from(doc: dict[str, Any], state: OrderState) -> float | None:
    """A suspended order stops being judged from its suspension's `from` (orders `suspensions`)."""
    entries = doc.get("suspensions") if state.status == SUSPENDED else None
    try:
        return parse_instant(entries[-1]["from"]).timestamp() if entries else None
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def order_change(
    engine: Any,
    state: OrderState,
    kind: str,
    doc: dict[str, Any],
    person_id: str | None,
    pins: dict[str, Any] | None = None,
) -> Change:
    if kind == "end":
        return Change("end", state.ref, _suspended_from(doc, state) or state.updated_at.timestamp(), {})
    data = {**doc, "ref": state.ref, "person_id": person_id or doc.get("person_id"), "version": state.version}
    # a pin the order's creator corrected (field/) is where the address is: the curfew is judged there
    if pins:
        data["addresses"] = [
            {**a, "lat": pins["pins"][t][0], "lon": pins["pins"][t][1]}
            if isinstance(a, dict) and (t := str(a.get("type") or "PRIMARY")) in pins["pins"]
            else a
            for a in doc.get("addresses") or []
        ]
        data["_pins_at"] = pins["at"]
    # a new order covers all its telemetry (its own dates bound it); a variation holds from its acceptance
    at = ALWAYS if state.ref not in engine.orders else _ts(state.decided_at)
    return Change("order", state.ref, at, data)


def activation_changes(engine: Any, rows: Iterable[dict[str, Any]]) -> list[Change]:
    """Activations the engine lacks or holds differently (e.g. an end set since)."""
    held = {a.activation_id: a for a in engine.activations}
    return [
        Change("activation", r["activation_id"], ALWAYS, r)
        for r in rows
        if held.get(r["activation_id"]) != Activation.from_dict(r)
    ]


def apply_change(engine: Any, change: Change) -> None:
    if change.kind == "order":
        engine.apply_order(change.data)
    elif change.kind == "end":
        engine.end_order(change.key, change.at)
    elif change.kind == "activation":
        engine.apply_activation(change.data)
    else:
        raise ValueError(f"unknown change {change.kind!r}")


def event_time(message: Any) -> float:
    """A message's event time: a wire dict (workers) or a stored `Message` (the in-server engine)."""
    if isinstance(message, dict):
        return parse_instant(message["device_time"]).timestamp()
    return float(message.device_time.timestamp())


def horizon(messages: Iterable[dict[str, Any]]) -> float:
    """The newest instant a batch speaks for: event time, capped at receive time (a clock running ahead)."""
    out = ALWAYS
    for m in messages:
        t = event_time(m)
        rx = m.get("receive_time")
        out = max(out, min(t, parse_instant(rx).timestamp()) if rx else t)
    return out


def process_in_order(engine: Any, messages: list[Any], changes: list[Change]) -> list[dict[str, Any]]:
    """Apply changes and process messages in event-time order: the messages before a change's instant first,
    then the change, then the rest. Returns the alerts raised."""
    alerts: list[dict[str, Any]] = []
    rest = list(messages)
    for change in sorted(changes, key=lambda c: c.at):
        if rest and change.at > ALWAYS:
            before = [m for m in rest if event_time(m) < change.at]
            if before:
                rest = [m for m in rest if event_time(m) >= change.at]
                alerts += engine.process(before)
        apply_change(engine, change)
    if rest:
        alerts += engine.process(rest)
    return alerts


# ---- the database side -------------------------------------------------------------------------------
class OrderFollower:
    """The reconciler: reads what is in force and returns, per partition, the changes its engine lacks. The
    partition workers and the in-server engine (one partition of everything) both use it.

    Every call compares; the cursor only narrows what is read. Orders: those changed since the last read
    began, minus `overlap_s` (a transaction stamps `updated_at` before it commits). The cursor follows the
    reading clock, not the newest `updated_at` seen: after a burst of orders stamped together, that one stayed
    put and every read took the whole burst again (17 ms a batch for 300 orders). A writer whose clock lags by
    more than the overlap is caught by the full comparison. Activations: a cheap probe (the store's change
    counter of activations, one row) decides whether to read them, on every call (a device fitted is monitored
    from its first batch); orders at most every `orders_every_s`. Every `full_every_s`, and for a
    partition just taken, everything is compared. Reads go through the capabilities' public queries."""

    def __init__(
        self,
        db: Database,
        partition_of: Callable[[str], int],
        *,
        overlap_s: float = 30.0,
        full_every_s: float = 60.0,
        orders_every_s: float = 0.0,
    ) -> None:
        self.db = db
        self.orders_every_s = orders_every_s  # the in-server engine reads orders at most once a second
        self.partition_of = partition_of
        self.overlap_s = overlap_s
        self.full_every_s = full_every_s
        self.since: datetime | None = None
        self.probe: int | None = None
        self.last_full = 0.0
        self.last_orders = 0.0

    def changes(
        self, engines: dict[int, Any], *, takeover: bool = False, seen_probe: int | None = None
    ) -> dict[int, list[Change]]:
        """The changes each engine lacks. `takeover`: compare everything for partitions just taken, without
        moving the cursor the running partitions rely on. `seen_probe`: the activation probe a caller read
        after its data arrived (ingest reads it for every batch); equal to the last one this follower read,
        the activations have not changed since, so when no order read is due nothing is asked of the store
        (a unit of work and a round trip saved on every batch)."""
        if not engines:
            return {}
        full = takeover or time.monotonic() - self.last_full >= self.full_every_s
        orders = full or time.monotonic() - self.last_orders >= self.orders_every_s
        if seen_probe is not None and seen_probe == self.probe and not orders:
            return {}
        read_at = utcnow()
        with self.db.uow() as uow:
            s = uow.session
            states = orders_in_force_since(s, None if full else self.since, self.overlap_s) if orders else []
            pins = corrected_pins(s) if orders else {}
            probe = activation_probe(s)
            acts = all_activations(s) if full or probe != self.probe else None
            by_part: dict[int, list[OrderState]] = {}
            for st in states:
                by_part.setdefault(self.partition_of(st.ref), []).append(st)
            wanted = {k: order_differences(engine, by_part.get(k, []), pins) for k, engine in engines.items()}
            refs = {st.ref for diffs in wanted.values() for st, kind in diffs
                    if kind == "order" or st.status == SUSPENDED}  # fmt: skip
            docs = order_documents(s, refs) if refs else {}
        out: dict[int, list[Change]] = {}
        for k, engine in engines.items():
            found = [order_change(engine, st, kind, *docs.get(st.ref, ({}, None)), pins.get(st.ref))
                     for st, kind in wanted[k]]  # fmt: skip
            if acts is not None:
                found += activation_changes(
                    engine, [a for a in acts if self.partition_of(a["order_ref"]) == k]
                )
            if found:
                out[k] = found
        if not takeover:
            if orders:
                self.since = read_at if self.since is None else max(self.since, read_at)
                self.last_orders = time.monotonic()
            self.probe = probe
            if full:
                self.last_full = time.monotonic()
        return out
