"""Episodes: every alert the engine raises opens an episode with a stable id (the alert id), which rules
then update (a higher peak, a longer stay, more hours unmonitored) and close (the wearer left the zone, came
home, the window ended). The engine keeps the open ones (JSON-safe, in its checkpoint) and the episode
records of the current batch (`Engine.take_episodes`), which go out as `monitoring.EpisodeOpened / Updated /
Closed` (docs/decisions/0020-episodes.md). Only alerts open episodes, so the hot path pays nothing for fixes
that raise nothing; closing a zone episode happens where the zone machine already sees the clear fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openem.monitoring.model import to_iso

if TYPE_CHECKING:
    from openem.monitoring.engine import Engine

OPENED, UPDATED, CLOSED = "opened", "updated", "closed"

# Alert kinds whose episode is complete when raised (the alert already carries its end or is an instant):
# they open and close in the same record pair.
INSTANT = frozenset({"order_unusable", "engine_rejected"})


def open_episode(
    eng: Engine, alert: dict[str, Any], key: str | None = None, measure: dict[str, float] | None = None
) -> None:
    """Open the episode of a newly raised alert (revision 0). `key` names the situation a rule will close
    it by (e.g. "zone:<ref>:<zone_id>"); without one the episode closes at its alert's end, if any."""
    ep: dict[str, Any] = {
        "episode_id": alert["id"],
        "kind": alert["kind"],
        "severity": alert["severity"],
        "person_id": alert["person_id"],
        "order_ref": alert["order_ref"],
        "device_id": alert["device_id"],
        "condition_id": alert["condition_id"],
        "start": alert["start"],
        "end": None,
        "state": "open",
        "revision": 0,
        "closed_reason": None,
        "measure": _rounded(measure or {}),
        "evidence": list(alert.get("evidence") or []),
        "details": dict(alert.get("details") or {}),
        "detected_at": alert["detected_at"],
        "updated_at": alert["detected_at"],
        "confidence": "possible" if alert["kind"].endswith(("possible", "possible_exit")) else "confirmed",
    }
    if key:
        ep["key"] = key
        eng.ep_keys.setdefault(key, []).append(ep["episode_id"])
    eng.episodes[ep["episode_id"]] = ep
    eng.ep_out.append(_record(ep, OPENED))
    if alert.get("end") is not None and not key:  # a closed interval already (a late return, a missed call)
        reason = "returned" if alert["kind"] == "curfew_late_return" else "ended"
        close(eng, ep["episode_id"], alert["end"], reason, at=alert["detected_at"])


def _rounded(measure: dict[str, float]) -> dict[str, float]:
    """Measures to 2 decimals (minutes, hours, metres), a TAC to 4 (g/dl: 0.033 is not 0.03)."""
    return {k: round(float(v), 4 if k.endswith("_tac") else 2) for k, v in measure.items()}


def _record(ep: dict[str, Any], change: str) -> dict[str, Any]:
    out = {k: v for k, v in ep.items() if k != "key"}
    out["measure"] = dict(ep["measure"])
    out["change"] = change
    return out


def _iso(t: float | str) -> str:
    return t if isinstance(t, str) else to_iso(t)


def update(eng: Engine, episode_id: str, measure: dict[str, float], at: float | str,
           evidence: list[list[Any]] | None = None) -> bool:  # fmt: skip
    """Record a changed measure on an open episode; returns False (and records nothing) when nothing
    changed or the episode is not open."""
    ep = eng.episodes.get(episode_id)
    if ep is None:
        return False
    new = _rounded(measure)
    if all(ep["measure"].get(k) == v for k, v in new.items()) and not evidence:
        return False
    ep["measure"].update(new)
    if evidence:
        ep["evidence"] = (ep["evidence"] + [e for e in evidence if e not in ep["evidence"]])[:50]
    ep["revision"] += 1
    ep["updated_at"] = _iso(at)
    eng.ep_out.append(_record(ep, UPDATED))
    return True


def close(eng: Engine, episode_id: str, end: float | str, reason: str, *, at: float | str,
          measure: dict[str, float] | None = None) -> None:  # fmt: skip
    ep = eng.episodes.pop(episode_id, None)
    if ep is None:
        return
    if measure:
        ep["measure"].update(_rounded(measure))
    ep["end"], ep["state"], ep["closed_reason"] = _iso(end), "closed", reason
    ep["revision"] += 1
    ep["updated_at"] = _iso(at)
    key = ep.get("key")
    if key and key in eng.ep_keys:
        ids = [i for i in eng.ep_keys[key] if i != episode_id]
        if ids:
            eng.ep_keys[key] = ids
        else:
            del eng.ep_keys[key]
    eng.ep_out.append(_record(ep, CLOSED))


def keyed(eng: Engine, key: str) -> list[str]:
    """The open episodes a situation key names (oldest first)."""
    return list(eng.ep_keys.get(key, ()))


def close_key(eng: Engine, key: str, end: float, reason: str, *, at: float,
              measure: dict[str, float] | None = None) -> None:  # fmt: skip
    for eid in keyed(eng, key):
        close(eng, eid, end, reason, at=at, measure=measure)


def end_of_data(eng: Engine, at: float) -> list[dict[str, Any]]:
    """Replay's end: the episodes still open, each as one record saying so (state stays "open", end null,
    closed_reason "end_of_data"), with their measures up to the end of the data. The engine's own state is untouched."""
    out = []
    for ep in sorted(eng.episodes.values(), key=lambda e: e["episode_id"]):
        rec = _record(ep, UPDATED)
        rec["revision"] = ep["revision"] + 1
        rec["closed_reason"] = "end_of_data"  # still open: state "open", end null, and the data ended
        rec["updated_at"] = _iso(at)
        out.append(rec)
    return out
