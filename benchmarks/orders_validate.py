"""Order validation benchmark: detection by defect type, false rejections and µs per order.

Runs `openem.orders.rules.validate_order` over a labelled corpus and, in the same run, a peer: the `jsonschema`
library validating against the published order JSON Schema alone (structure only). The corpus comes from
`openem.sim.generate_world` (`--source sim`) or generated here (`--source builtin`, default): clean sample orders plus
one injected defect per defective order, each labelled with its defect type.

    .venv/bin/python benchmarks/orders_validate.py [--orders 4000] [--seed 1]
"""

from __future__ import annotations

import argparse
import copy
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jsonschema

from openem.orders.rules import validate_order
from openem.orders.samples import sample_order
from openem.orders.schema import order_json_schema

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
Doc = dict[str, Any]


def _poly(ring: list[list[float]]) -> Doc:
    return {
        "id": "ZX",
        "name": "Zone",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "start": None,
        "end": None,
        "schedule": None,
    }


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    def apply(d: Doc) -> None:
        *parents, leaf = path.split(".")
        node = d
        for p in parents:
            node = node[p]
        node[leaf] = value

    return apply


def _del(path: str) -> Callable[[Doc], None]:
    def apply(d: Doc) -> None:
        *parents, leaf = path.split(".")
        node = d
        for p in parents:
            node = node[p]
        node.pop(leaf, None)

    return apply


def _youth(d: Doc) -> None:
    d["device_wearer"]["date_of_birth"] = "2011-06-01"


def _alcohol_youth(d: Doc) -> None:
    d["device_wearer"].update(date_of_birth="2011-06-01", is_adult=False)
    d["monitoring"]["is_youth"] = True
    d["responsible_adult"] = {"full_name": "Jo Parent", "relationship": "Parent", "phone": "07700 900111"}
    if d["interested_parties"]["responsible_organisation"] == "PROBATION":
        d["interested_parties"]["responsible_organisation"] = "YJS"
    d["conditions"]["alcohol"] = {
        "mode": "ABSTINENCE",
        "start": d["monitoring"]["start"],
        "end": d["monitoring"]["end"],
    }


def _curfew_day(d: Doc) -> None:
    d["conditions"]["curfew"]["timetable"][0].update(start="05:00", end="04:00")  # 23 h


def _curfew_address(d: Doc) -> None:
    d["conditions"]["curfew"]["timetable"][1]["address_type"] = "TERTIARY"


def _self_intersect(d: Doc) -> None:
    lat, lon = d["addresses"][0]["lat"], d["addresses"][0]["lon"]
    d["conditions"]["exclusion_zones"] = [
        _poly([[lon, lat], [lon + 0.01, lat + 0.01], [lon + 0.01, lat], [lon, lat + 0.01], [lon, lat]])
    ]


def _not_closed(d: Doc) -> None:
    lat, lon = d["addresses"][0]["lat"], d["addresses"][0]["lon"]
    d["conditions"]["exclusion_zones"] = [
        _poly([[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01]])
    ]


def _outside(d: Doc) -> None:
    d["conditions"]["exclusion_zones"] = [
        _poly([[-3.2, 55.94], [-3.18, 55.94], [-3.18, 55.96], [-3.2, 55.96], [-3.2, 55.94]])
    ]


def _tiny(d: Doc) -> None:
    lat, lon = d["addresses"][0]["lat"], d["addresses"][0]["lon"]
    e = 0.0001
    d["conditions"]["exclusion_zones"] = [
        _poly([[lon, lat], [lon + e, lat], [lon + e, lat + e], [lon, lat + e], [lon, lat]])
    ]


def _attendance(d: Doc) -> None:
    d["conditions"]["attendance"] = [
        {
            "id": "A9",
            "name": "Course",
            "lat": d["addresses"][0]["lat"],
            "lon": d["addresses"][0]["lon"],
            "radius_m": 100,
            "start": "2031-01-01T10:00:00Z",
            "end": "2031-01-01T12:00:00Z",
        }
    ]


def _region(d: Doc) -> None:
    d["interested_parties"].update(
        responsible_organisation="PROBATION", probation_region="WALES", delivery_unit="LEEDS"
    )


def _agency(d: Doc) -> None:
    d["interested_parties"]["responsible_organisation"] = (
        "HOME_OFFICE" if d["monitoring"]["cohort"] != "IMMIGRATION_BAIL" else "POLICE"
    )


def _scheme(d: Doc) -> None:
    d["monitoring"].update(
        cohort="POST_RELEASE",
        order_type="POST_RELEASE",
        scheme="GPS_ACQUISITIVE_CRIME_PAROLE",
        end="2028-06-01T00:00:00Z",
    )
    d["device_wearer"]["nomis_id"] = "A1234BC"


def _short(d: Doc) -> None:
    d["monitoring"].update(cohort="POST_RELEASE", order_type="POST_RELEASE", end="2026-12-10T00:00:00Z")
    d["device_wearer"]["nomis_id"] = "A1234BC"


DEFECTS: dict[str, Callable[[Doc], None]] = {
    "missing_date_of_birth": _del("device_wearer.date_of_birth"),
    "missing_last_name": _del("device_wearer.last_name"),
    "bad_postcode": lambda d: d["addresses"][0].update(
        postcode=random.choice(["LS1", "12345", "SW1A 1A", "QQ1 1AA"])
    ),
    "end_before_start": lambda d: d["monitoring"].update(end="2026-11-23T00:00:00Z"),
    "end_in_past": lambda d: d["monitoring"].update(end="2026-10-01T00:00:00Z"),
    "invalid_date": lambda d: d["monitoring"].update(end="2027-02-30T12:00:00Z"),
    "adult_age_mismatch": _youth,
    "alcohol_for_youth": _alcohol_youth,
    "curfew_address_not_in_order": _curfew_address,
    "curfew_hours_over_daily_bound": _curfew_day,
    "curfew_invalid_time": lambda d: d["conditions"]["curfew"]["timetable"][2].update(start="25:00"),
    "scheme_duration_too_long": _scheme,
    "prison_leaver_under_30_days": _short,
    "zone_self_intersecting": _self_intersect,
    "zone_not_closed": _not_closed,
    "zone_outside_england_wales": _outside,
    "zone_too_small": _tiny,
    "attendance_outside_order": _attendance,
    "delivery_unit_wrong_region": _region,
    "agency_inconsistent_with_cohort": _agency,
    "unknown_reference_code": lambda d: d["offence_risk"].update(offence_category="JAYWALKING"),
    "install_after_start": lambda d: d["installation"].update(appointment="2027-06-01T10:00:00Z"),
    "script_in_name": lambda d: d["device_wearer"].update(first_name="<script>alert(1)</script>"),
    "control_characters": lambda d: d["device_wearer"].update(last_name="Smith\x00\x07"),
    "wrong_type": lambda d: d["device_wearer"].update(is_adult="yes"),
    "string_too_long": lambda d: d["addresses"][0].update(line1="A" * 50_000),
}


def corpus(n: int, seed: int) -> list[tuple[Doc, str | None]]:
    rng = random.Random(seed)
    random.seed(seed)
    out: list[tuple[Doc, str | None]] = []
    names = sorted(DEFECTS)
    for i in range(n):
        doc = sample_order(NOW, rng)
        if i % 2 == 0:
            out.append((doc, None))
        else:
            defect = names[(i // 2) % len(names)]
            bad = copy.deepcopy(doc)
            DEFECTS[defect](bad)
            out.append((bad, defect))
    return out


def sim_corpus(wearers: int, seed: int) -> tuple[list[tuple[Doc, str | None]], datetime]:
    """Orders from the simulator, labelled by its injected defects (all labels joined with +); validation as at
    the world's start. Duplicate-person defects are checked against every other order in the world."""
    from openem.sim import generate_world
    from openem.sim.world import DEFAULT_START

    now = datetime.combine(DEFAULT_START, datetime.min.time(), tzinfo=UTC)
    world = generate_world(wearers=wearers, days=1, seed=seed)
    out = []
    for doc in world.orders:
        labels = doc.get("defects") or []
        out.append((doc, "+".join(sorted(labels)) if labels else None))
    return out, now


def with_duplicates(check: Callable[[Doc], bool]) -> Callable[[Doc], bool]:
    """Validation plus duplicate detection against the orders that arrived earlier in the corpus."""
    from openem.orders.rules.duplicates import DuplicateIndex

    index = DuplicateIndex()

    def run(d: Doc) -> bool:
        found = bool(index.find(d))
        index.add(d)
        return check(d) or found

    return run


def run(name: str, check: Callable[[Doc], bool], docs: list[tuple[Doc, str | None]]) -> dict[str, Any]:
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    false_rejections = 0
    start, cpu = time.perf_counter(), time.process_time()
    verdicts = [check(doc) for doc, _ in docs]
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu  # on a shared machine, the CPU it got: less noisy than wall time
    for (_, label), invalid in zip(docs, verdicts, strict=True):
        if label is None:
            false_rejections += invalid
        else:
            for one in label.split("+"):
                total[one] += 1
                caught[one] += invalid
    return {
        "verdicts": verdicts,
        "name": name,
        "caught": caught,
        "total": total,
        "false": false_rejections,
        "clean": sum(1 for _, lab in docs if lab is None),
        "us": elapsed / len(docs) * 1e6,
        "cpu_us": cpu / len(docs) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--source", choices=("builtin", "sim"), default="builtin")
    parser.add_argument("--wearers", type=int, default=2000, help="sim: wearers in the generated world")
    args = parser.parse_args()
    if args.source == "sim":
        docs, now = sim_corpus(args.wearers, args.seed)
    else:
        docs, now = corpus(args.orders, args.seed), NOW
    validator = jsonschema.Draft202012Validator(order_json_schema())
    validate_order({}, now=now)  # warm caches (reference lists, policy, transformer)
    results = [
        run("openem rules", lambda d: bool(validate_order(d, now=now)), docs),
        run("jsonschema (schema only)", lambda d: not validator.is_valid(d), docs),
    ]
    if args.source == "sim":  # the built-in corpus draws identifiers at random, so it has chance duplicates
        results.insert(
            1,
            run(
                "openem rules + duplicates", with_duplicates(lambda d: bool(validate_order(d, now=now))), docs
            ),
        )
    print(f"{args.source} corpus: {len(docs)} orders, {results[0]['clean']} clean")
    print(f"{'defect':36} " + " ".join(f"{r['name']:>26}" for r in results))
    for defect in sorted({one for _, lab in docs if lab for one in lab.split("+")}):
        cells = [
            f"{r['caught'][defect]:>5}/{r['total'][defect]:<5} {100 * r['caught'][defect] / max(1, r['total'][defect]):5.1f}%"
            for r in results
        ]
        print(f"{defect:36} " + " ".join(f"{c:>26}" for c in cells))
    reasons: Counter[str] = Counter()
    for doc, label in docs:
        if label is None:
            reasons.update({e.code for e in validate_order(doc, now=now)})
    if reasons:
        print("false rejections by error code:", dict(reasons.most_common()))
    for r in results:
        defective = [invalid for (_, lab), invalid in zip(docs, r["verdicts"], strict=True) if lab]
        caught, total = sum(defective), len(defective)
        print(
            f"{r['name']}: caught {caught}/{total} ({100 * caught / total:.1f}%), false rejections {r['false']}/{r['clean']}, {r['us']:.0f} µs/order ({r['cpu_us']:.0f} µs CPU)"
        )


if __name__ == "__main__":
    main()
