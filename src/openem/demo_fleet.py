"""The demo's simulated fleet: a synthetic world around today is loaded (devices, activations, orders), the
demo's users are chosen to match it, and its telemetry is sent to the running server over HTTP, like a real
gateway: everything before the demo's start instant at once (the backlog), then the rest `speed` simulated
seconds per real second (never ahead of the real clock: the server refuses data dated in its future).

The start instant is chosen from the world's ground truth: a little before the busiest stretch of alerts
(curfews starting with wearers late home, a zone entered, a drinking episode), so that the alerts page shows
the engine at work within the first minute."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from openem.config import Settings
from openem.core.time import local_date
from openem.store.db import Database

log = logging.getLogger("openem.demo")

SEED = 7
#: truth kinds the engine raises close to an instant in the truth: `end` for a late return (the alert comes when
#: the wearer gets home), `start` for the others; kinds judged hours later (absent all night) are left out
PROMPT_KINDS = {
    "curfew_late_return": "end",
    "exclusion_entry": "start",
    "inclusion_exit": "start",
    "alcohol_drinking": "start",
    "strap_tamper": "start",
    "low_battery": "start",
}
LEAD_S = 120.0  # the start instant comes this long before the first alert of the busy stretch
FIRST_MINUTE_S = 60.0  # real seconds in which the busy stretch should fall
HISTORY_S = (
    6 * 3600.0
)  # at least this much of the world is sent as the backlog (the engine knows each wearer)


@dataclass
class FleetProgress:
    """What the terminal's progress line shows; `start` is the simulated instant the live part begins at."""

    start: datetime | None = None
    backlog: int = 0
    sent: int = 0
    live: bool = False
    live_since: datetime | None = None  # when the backlog had been sent and processed (the server's clock)
    finished: bool = False


def demo_world(now: datetime, wearers: int, days: int) -> Any:
    """A world from yesterday 07:00 (London) to `days` days after today, so there is a day of history."""
    from openem.sim import generate_world

    return generate_world(
        wearers=wearers, days=days + 1, seed=SEED, start=local_date(now) - timedelta(days=1)
    )


def demo_start(world: Any, now: datetime, speed: float) -> datetime:
    """The simulated instant the live part starts at: the one before `now` whose next real minute (at `speed`)
    holds the most prompt alerts in the world's truth; the latest such instant on a tie."""
    t = world.truth
    at = np.concatenate([t.loc[t.kind == k, col].to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6
                         for k, col in PROMPT_KINDS.items()]) if len(t) else np.zeros(0)  # fmt: skip
    curfews = (
        t.loc[t.kind == "curfew_late_return", "start"].to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6
    )
    first = (
        float(
            np.nanmin(
                world.telemetry.column("receive_time").to_numpy().astype("datetime64[us]").astype(np.int64)
            )
        )
        / 1e6
    )
    window = max(speed, 1.0) * FIRST_MINUTE_S
    at = np.sort(at[at <= now.timestamp()])
    # candidates: just before an alert, or just before a curfew starts (its late returners come home after it)
    starts = np.unique(np.concatenate([at, curfews]) - LEAD_S)
    starts = starts[(starts >= first + HISTORY_S) & (starts <= now.timestamp())]
    if not len(starts) or not len(at):
        return now
    counts = np.searchsorted(at, starts + window, side="right") - np.searchsorted(at, starts, side="left")
    best = np.flatnonzero(counts == counts.max())[-1]
    return datetime.fromtimestamp(float(starts[best]), UTC)


def demo_scopes(world: Any, until: datetime | None = None) -> dict[str, dict[str, Any]]:
    """For each role whose work is scoped, the user's organisation, force, email and caseload from the world:
    the force with most orders and alerts (alerts due by `until`, the first minutes of the demo, weigh most),
    the practitioner of the busiest delivery unit, the creators' most frequent court, prison and Home Office."""
    orders = list(world.orders)
    ip = {o["ref"]: o["interested_parties"] for o in orders if not o.get("defects")} or {
        o["ref"]: o["interested_parties"] for o in orders
    }
    t = world.truth
    if len(t) and until is not None:
        t = t[(t["start"] <= until) & (t["kind"] != "device_fault")]
    # alerts weigh most (each like a hundred orders): the police user should see some in the first minutes
    alerts = Counter({ref: 100 * n for ref, n in Counter(t["order_ref"]).items()}) if len(t) else Counter()
    weight: Counter[str] = Counter()
    for ref, p in ip.items():
        weight[p.get("police_area") or ""] += 1 + alerts.get(ref, 0)
    weight.pop("", None)
    force = weight.most_common(1)[0][0] if weight else "WEST_YORKSHIRE"
    units: Counter[str] = Counter()
    for ref, p in ip.items():
        if p.get("delivery_unit") and not _defective(orders, ref):
            units[p["delivery_unit"]] += 1 + alerts.get(ref, 0)
    unit = units.most_common(1)[0][0] if units else ""
    caseload = sorted(r for r, p in ip.items() if p.get("delivery_unit") == unit)
    email = next(
        (ip[r].get("responsible_officer_email") for r in caseload if ip[r].get("responsible_officer_email")),
        "",
    )
    out: dict[str, dict[str, Any]] = {
        "police_officer": {"police_area": force},
        "field_officer": {"police_area": force, "organisation": f"{force}_FIELD_DEPOT"},
        "probation_practitioner": {"email": email or "probation.demo@openem.example", "caseload": caseload},
    }
    for role, kinds in (("order_creator_court", ("MAGISTRATES_COURT", "CROWN_COURT", "YOUTH_COURT")),
                        ("order_creator_prison", ("PRISON",)), ("order_creator_probation", ("PROBATION",)),
                        ("order_creator_home_office", ("HOME_OFFICE",))):  # fmt: skip
        # the Home Office and probation carry no name (as in CEMO): the organisation is the organisation itself
        names = Counter(
            p.get("notifying_organisation_name") or p.get("notifying_organisation")
            for p in ip.values()
            if p.get("notifying_organisation") in kinds
        )
        if names:
            out[role] = {"organisation": names.most_common(1)[0][0]}
    return out


def _defective(orders: list[dict[str, Any]], ref: str) -> bool:
    return any(o["ref"] == ref and o.get("defects") for o in orders)


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
                log.warning(
                    "activation skipped", extra={"activation": act.get("activation_id"), "error": str(exc)}
                )
        token = issue_token(
            uow.session, actor="demo", name="demo-gateway", device_scope="demo-gateway", days=2
        )
    return counts, token


def stream_fleet(settings: Settings, url: str, token: str, world: Any, start: datetime, speed: float,
                 progress: FleetProgress) -> None:  # fmt: skip
    """Send the backlog (before `start`) at once, then the rest paced from `start` at `speed`."""
    from openem.sim.stream import Pacer, send_paced, table_to_wire

    table = world.telemetry.sort_by("receive_time")
    cut = start.strftime("%Y-%m-%dT%H:%M:%SZ")  # wire receive times are this format: compare as strings
    messages = table_to_wire(table)
    backlog: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []

    def count(n: int) -> None:
        progress.sent += n

    for m in messages:
        (backlog if m["receive_time"] < cut else rest).append(m)
    progress.backlog, progress.start = len(backlog), start  # the progress line starts once both are known
    send_paced(backlog, url, token, Pacer(0), progress=count)
    progress.live, progress.live_since = True, datetime.now(UTC)
    send_paced(rest, url, token, Pacer(speed, start=start.timestamp()), progress=count)
    progress.finished = True
