"""Small simulated worlds for crime matching where the truth is known: each wearer's path is placed on purpose
(at the scene, 1 km off, an hour off, with a gap over the window, on an order that does not permit matching)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SCENE = (52.4800, -1.9000)  # Birmingham
CRIME_FROM = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
CRIME_TO = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
DAY0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / 111_195.0, lon + east_m / (111_195.0 * math.cos(math.radians(lat)))


def walk_through(at: datetime, scene=SCENE, far_m: float = 3000.0):
    """A path (minute fixes) from far_m south of the scene, through it at `at`, to far_m north; else stays far."""

    def pos(t: datetime):
        dt = (t - at).total_seconds()
        north = max(-far_m, min(far_m, dt * 1.5))  # 1.5 m/s walking, passing the scene at `at`
        return offset(*scene, north, 0.0)

    return pos


def still(place):
    return lambda t: place


# name -> (path function, skip windows [(from, to)], order permits matching, activation end)
def default_wearers():
    return {
        "AT": (walk_through(CRIME_FROM + timedelta(minutes=20)), [], True, None),
        "FAR": (still(offset(*SCENE, 1000.0, 0.0)), [], True, None),
        "LATE": (walk_through(CRIME_TO + timedelta(minutes=60)), [], True, None),
        "GAP": (
            still(offset(*SCENE, 1000.0, 0.0)),
            [(CRIME_FROM - timedelta(minutes=10), CRIME_FROM + timedelta(minutes=40))],
            True,
            None,
        ),
        "NOTPERMIT": (walk_through(CRIME_FROM + timedelta(minutes=20)), [], False, None),
        "ENDED": (
            walk_through(CRIME_FROM + timedelta(minutes=20)),
            [],
            True,
            CRIME_FROM - timedelta(hours=2),
        ),
        "HOME": (
            still(offset(*SCENE, 20_000.0, 0.0)),
            [(CRIME_FROM + timedelta(minutes=10), CRIME_FROM + timedelta(minutes=20))],
            True,
            None,
        ),
    }


def write_world(folder: Path, wearers=None, hours: int = 10, accuracy: float = 10.0) -> Path:
    wearers = wearers or default_wearers()
    folder = Path(folder)
    (folder / "telemetry").mkdir(parents=True, exist_ok=True)
    cols: dict[str, list] = {
        k: []
        for k in (
            "device_id",
            "seq",
            "type",
            "device_time",
            "receive_time",
            "lat",
            "lon",
            "accuracy_m",
            "speed_mps",
            "heading_deg",
        )
    }
    acts, orders = [], []
    for n, (name, (path, skips, permits, ended)) in enumerate(wearers.items()):
        device, person, ref = f"GPS-T{n:03d}", f"PER-{name}", f"ORD-{name}"
        acts.append(
            {
                "activation_id": f"ACT-{device}",
                "device_id": device,
                "device_kind": "GPS_TAG",
                "order_ref": ref,
                "person_id": person,
                "role": "WEARER",
                "start": DAY0 - timedelta(days=30),
                "end": ended,
            }
        )
        conditions = (
            {"trail": {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}}
            if permits
            else {"curfew": {}}
        )
        orders.append(
            {"ref": ref, "person_id": person, "monitoring": {"scheme": None}, "conditions": conditions}
        )
        for m in range(hours * 60):
            t = DAY0 + timedelta(minutes=m, seconds=n)
            if any(a <= t < b for a, b in skips):
                continue
            lat, lon = path(t)
            for k, v in (
                ("device_id", device),
                ("seq", m),
                ("type", "gps"),
                ("device_time", t),
                ("receive_time", t),
                ("lat", lat),
                ("lon", lon),
                ("accuracy_m", accuracy),
                ("speed_mps", 1.5),
                ("heading_deg", 0.0),
            ):
                cols[k].append(v)
    ts = pa.timestamp("us", tz="UTC")
    table = pa.table(
        {k: pa.array(v, ts) if k in ("device_time", "receive_time") else v for k, v in cols.items()}
    )
    pq.write_table(table, folder / "telemetry" / "part-00000.parquet")
    at = pa.table(
        {k: pa.array([a[k] for a in acts], ts if k in ("start", "end") else pa.string()) for k in acts[0]}
    )
    pq.write_table(at, folder / "activations.parquet")
    with (folder / "orders.jsonl").open("w") as fh:
        for o in orders:
            fh.write(json.dumps(o) + "\n")
    return folder


def crime_line(ref: str = "CR-1", lat_lon=SCENE, frm=CRIME_FROM, to=CRIME_TO, text: str = "Burglary") -> str:
    f, t = frm.strftime("%Y%m%d%H%M%S"), to.strftime("%Y%m%d%H%M%S")
    return ",".join(
        [
            "WestMidlands",
            "BIAD",
            "Burglary",
            "WMP20261103",
            ref,
            f,
            t,
            "",
            "",
            f"{lat_lon[0]:.6f}",
            f"{lat_lon[1]:.6f}",
            "WGS84",
            text,
        ]
    )
