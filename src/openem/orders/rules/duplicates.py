"""Possible duplicate people: the same person may already have an active order. Matches on identifiers
(PNC, NOMIS ID, CRN, prison number, Home Office reference) and on a fuzzy name (any of first/last names and
aliases) with the same date of birth. Matches are flagged for a person to confirm, never merged."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable
from difflib import SequenceMatcher
from typing import Any

from openem.orders.rules.base import section, text

IDENTIFIERS = ("pnc", "nomis_id", "crn", "prison_number", "home_office_reference")
NAME_THRESHOLD = 0.85


@dataclasses.dataclass(frozen=True, slots=True)
class PossibleDuplicate:
    order_ref: str
    person_id: str | None
    reason: str  # "pnc", "nomis_id", ..., or "name_and_date_of_birth"
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_ref": self.order_ref,
            "person_id": self.person_id,
            "reason": self.reason,
            "score": self.score,
        }


def normalise_name(name: str) -> str:
    """Lower case, accents removed, punctuation and spaces dropped: "O'Néill" -> "oneill"."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum() and not unicodedata.combining(ch))


def _normalise_id(value: str) -> str:
    return "".join(value.split()).upper()


def _names(wearer: dict[str, Any]) -> set[str]:
    first, last = text(wearer, "first_name") or "", text(wearer, "last_name") or ""
    names = {normalise_name(f"{first} {last}")} if first or last else set()
    aliases = wearer.get("aliases")
    if isinstance(aliases, list):
        names |= {normalise_name(a) for a in aliases if isinstance(a, str) and a.strip()}
        # an alias may be a different first name used with the same surname
        names |= {normalise_name(f"{a} {last}") for a in aliases if isinstance(a, str) and a.strip() and last}
    return {n for n in names if n}


def name_similarity(a: dict[str, Any], b: dict[str, Any]) -> float:
    best = 0.0
    for x in _names(a):
        for y in _names(b):
            best = max(best, 1.0 if x == y else SequenceMatcher(None, x, y).ratio())
    return best


def match_keys(order: Any) -> set[str]:
    """What another order must share with this one to be a candidate duplicate: an identifier
    ("pnc:2019/0123456A", normalised) or the date of birth ("dob:1990-01-01"). A store indexes these so that a
    duplicate check reads the few orders sharing a key, not every active order."""
    wearer = section(order, "device_wearer")
    keys = {f"{k}:{_normalise_id(v)}" for k in IDENTIFIERS if (v := text(wearer, k))}
    if dob := text(wearer, "date_of_birth"):
        keys.add(f"dob:{dob}")
    return {k[:120] for k in keys}


def find_possible_duplicates(order: Any, existing: Iterable[Any]) -> list[PossibleDuplicate]:
    """Active orders (documents) in `existing` that may be for the same person as `order`.

    Orders with the same `ref` (other versions of this order) are ignored. For many look-ups against the
    same orders, build a `DuplicateIndex` once instead.
    """
    return _match(order, existing)


class DuplicateIndex:
    """Existing active orders indexed by identifier and by date of birth, for fast repeated look-ups."""

    def __init__(self, existing: Iterable[Any] = ()) -> None:
        self._by_id: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._by_dob: dict[str, list[dict[str, Any]]] = {}
        for doc in existing:
            self.add(doc)

    def add(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            return
        wearer = section(doc, "device_wearer")
        for key in IDENTIFIERS:
            if value := text(wearer, key):
                self._by_id.setdefault((key, _normalise_id(value)), []).append(doc)
        if dob := text(wearer, "date_of_birth"):
            self._by_dob.setdefault(dob, []).append(doc)

    def find(self, order: Any) -> list[PossibleDuplicate]:
        wearer = section(order, "device_wearer")
        candidates: dict[int, dict[str, Any]] = {}
        for key in IDENTIFIERS:
            if value := text(wearer, key):
                for doc in self._by_id.get((key, _normalise_id(value)), ()):
                    candidates[id(doc)] = doc
        if dob := text(wearer, "date_of_birth"):
            for doc in self._by_dob.get(dob, ()):
                candidates[id(doc)] = doc
        return _match(order, candidates.values())


def _match(order: Any, existing: Iterable[Any]) -> list[PossibleDuplicate]:
    wearer = section(order, "device_wearer")
    ref = text(order, "ref") if isinstance(order, dict) else None
    mine = {k: _normalise_id(v) for k in IDENTIFIERS if (v := text(wearer, k))}
    dob = text(wearer, "date_of_birth")
    out: list[PossibleDuplicate] = []
    for other in existing:
        if not isinstance(other, dict) or (ref is not None and text(other, "ref") == ref):
            continue
        theirs_wearer = section(other, "device_wearer")
        match = None
        for key, value in mine.items():
            theirs = text(theirs_wearer, key)
            if theirs and _normalise_id(theirs) == value:
                match = PossibleDuplicate(text(other, "ref") or "", text(other, "person_id"), key, 1.0)
                break
        if match is None and dob and text(theirs_wearer, "date_of_birth") == dob:
            score = name_similarity(wearer, theirs_wearer)
            if score >= NAME_THRESHOLD:
                match = PossibleDuplicate(
                    text(other, "ref") or "",
                    text(other, "person_id"),
                    "name_and_date_of_birth",
                    round(score, 3),
                )
        if match is not None:
            out.append(match)
    return sorted(out, key=lambda d: -d.score)
