"""Triage benchmark: incidents needing a person per wearer-day (today's field: every alert, 0.25-1.25) and
recall of the simulator's true breaches per kind, with every suppressed true breach listed by rule.

    PYTHONPATH=src python benchmarks/triage_bench.py --world DIR --out DIR   (after `openem triage replay`)
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter, defaultdict
from datetime import timedelta

import pandas as pd

from openem.alerts.triage import condition_of, parse_iso

#: states in which an incident reached someone who acts: escalated (operator + official) or confirmed (official)
REACHED = ("escalated", "confirmed")
PROTECTED = ("proximity", "strap_tamper", "case_tamper", "alcohol_skin_tamper")


def refused_by_order_entry(docs: list[dict], manifest: dict) -> dict[str, str]:
    """Order ref -> why order entry refuses it: `orders.rules.validate_order` at the world's start (the error
    codes), or a second order for a person who already has an accepted one (order entry's duplicate check)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from openem.orders.rules import validate_order

    start = str(manifest.get("start") or "2026-11-02T07:00 Europe/London").split(" ")[0]
    now = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo("Europe/London"))
    refused, holders = {}, set()
    for doc in docs:
        errors = validate_order({k: v for k, v in doc.items() if k != "defects"}, now=now)
        person = str(doc.get("person_id") or "")
        if errors:
            refused[doc["ref"]] = ",".join(sorted({e.code for e in errors}))
        elif person in holders:
            refused[doc["ref"]] = "duplicate of an accepted order"
        else:
            holders.add(person)
    return refused


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--world", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--alerts", help="the alerts replayed (baseline: one person-review per alert)")
    args = ap.parse_args()
    manifest = json.load(open(os.path.join(args.world, "manifest.json")))
    wearers = int(manifest.get("wearers") or manifest.get("people") or 0)
    days = int(manifest.get("days") or 0)
    incs = [json.loads(x) for x in open(os.path.join(args.out, "incidents.jsonl"))]
    need = [i for i in incs if i["needs_person"]]
    wd = max(wearers * days, 1)
    print(f"world: {wearers} wearers x {days} days = {wd} wearer-days")
    if args.alerts:
        n_alerts = sum(1 for _ in open(args.alerts))
        print(f"baseline (every alert reviewed): {n_alerts / wd:.3f} per wearer-day")
    print(
        f"openem triage: {len(incs)} incidents, {len(need)} needing a person = {len(need) / wd:.3f} per wearer-day"
    )
    sent = [i for i in incs if i["state"] == "confirmed"]
    print(
        f"sent straight to the official as a breach by policy (no operator): {len(sent)} = {len(sent) / wd:.3f} per wearer-day"
    )
    truth = pd.read_parquet(os.path.join(args.world, "truth.parquet"))
    truth = truth[truth["is_violation"]]
    by_person: dict[str, list[dict]] = defaultdict(list)
    for i in incs:
        by_person[i["person_id"]].append(i)
    found, total, missed = Counter(), Counter(), []
    # orders the simulator corrupted on purpose: order entry refuses them (the truth was drawn from the order
    # before the corruption, so the engine monitors other hours, dates or zones than the truth's). Judged by
    # order entry's own rules at the world's start, not by the simulator's label
    defects = refused_by_order_entry(
        [json.loads(line) for line in open(os.path.join(args.world, "orders.jsonl"))], manifest
    )
    found_valid, total_valid = Counter(), Counter()
    true_hits: set[str] = set()
    slack = timedelta(hours=2)
    for row in truth.itertuples():
        total[row.kind] += 1
        start = row.start.to_pydatetime()
        end = row.end.to_pydatetime() if pd.notna(row.end) else start
        cond = condition_of(row.kind)
        hits = [i for i in by_person.get(row.person_id, [])
                if any(condition_of(k) == cond for k in i["kinds"])
                and parse_iso(i["opened_at"]) <= end + slack
                and (i["closed_at"] is None or parse_iso(i["closed_at"]) >= start - slack)]  # fmt: skip
        valid = row.order_ref not in defects
        total_valid[row.kind] += valid
        if any(h["needs_person"] or h["state"] in REACHED for h in hits):  # an operator, or the official
            found[row.kind] += 1
            found_valid[row.kind] += valid
            for h in hits:
                true_hits.add(h["id"])
        else:
            rules = sorted({d["rule"] for h in hits for d in h["decisions"]}) or [
                "no incident (not detected)"
            ]
            missed.append((row.kind, row.person_id, str(start), rules,
                           f"defective order: {defects[row.order_ref]}" if not valid else "valid order"))  # fmt: skip
    rest = [k for k in total if k not in PROTECTED]
    protected = [k for k in total if k in PROTECTED]

    def share(found_: Counter, total_: Counter, kinds: list[str]) -> str:
        f, t = sum(found_[k] for k in kinds), sum(total_[k] for k in kinds)
        return f"{f}/{t} = {f / max(t, 1):.2%}"

    # the headline: recall judged on the orders that exist in openem (order entry accepts them), and overall
    print("RECALL (headline; target 100% proximity and tamper, >= 99.5% the rest):")
    print(f"  valid orders (order entry accepts): proximity+tamper {share(found_valid, total_valid, protected)}; "
          f"the rest {share(found_valid, total_valid, rest)}")  # fmt: skip
    print(f"  overall (with the simulator's corrupted orders, which order entry refuses): proximity+tamper "
          f"{share(found, total, protected)}; the rest {share(found, total, rest)}")  # fmt: skip
    print("recall of true breaches by kind:")
    for kind in sorted(total):
        print(f"  {kind:22s} {found[kind]}/{total[kind]} = {found[kind] / total[kind]:.1%}")
    print(f"  all                    {sum(found.values())}/{sum(total.values())}")
    for label, kinds in (
        ("the rest", rest),
        ("the rest without low_battery", [k for k in rest if k != "low_battery"]),
    ):
        f, t = sum(found[k] for k in kinds), sum(total[k] for k in kinds)
        print(f"  {label:28s} {f}/{t} = {f / max(t, 1):.2%}")
    print("recall on the orders order entry accepts (no simulator defect):")
    for kind in sorted(total_valid):
        if total_valid[kind]:
            print(
                f"  {kind:22s} {found_valid[kind]}/{total_valid[kind]} = {found_valid[kind] / total_valid[kind]:.1%}"
            )
    fv = sum(found_valid[k] for k in rest)
    tv = sum(total_valid[k] for k in rest)
    print(f"  the rest, valid orders       {fv}/{tv} = {fv / max(tv, 1):.2%}")
    print(f"  misses by kind and order: {Counter((m[0], m[4].split(':')[0]) for m in missed).most_common()}")
    false_sent = [i for i in sent if i["id"] not in true_hits]
    print(
        f"sent to an official but matching no true breach: {len(false_sent)} of {len(sent)} "
        f"({len(false_sent) / max(len(sent), 1):.1%}); by kinds: {Counter(','.join(i['kinds']) for i in false_sent).most_common(5)}"
    )
    noise = [i for i in need if i["id"] not in true_hits]
    print(
        f"needing an operator but matching no true breach: {len(noise)}; by kinds: "
        f"{Counter(','.join(i['kinds']) for i in noise).most_common(6)}"
    )
    print("true breaches not reaching a person (kind, person, start, by rule):")
    for m in missed:
        print("  ", *m)


if __name__ == "__main__":
    main()
