"""The monitored population: cohorts (March 2026 mix), monitoring plans (which devices and conditions),
behaviour profiles and each person's places (home, work, leisure, zones). Plain numpy arrays, one row a person."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from openem.sim import places

COHORTS = ("POST_RELEASE", "COURT_BAIL", "IMMIGRATION_BAIL", "COURT_SENTENCE", "SPECIALS")
COHORT_SHARES = (0.37, 0.34, 0.15, 0.136, 0.004)  # domain.md §2 (specials < 0.5%)
YOUTH_SHARE = {"COURT_BAIL": 0.05, "COURT_SENTENCE": 0.05}

# Monitoring plans: which devices and conditions an order carries.
PLANS = ("HDC", "RF_CURFEW", "GPS_AC", "GPS_DA", "ALCOHOL", "GPS_BAIL", "NFD", "GPS_IMM", "SPECIAL")
PLAN_MIX: dict[str, dict[str, float]] = {
    "POST_RELEASE": {"HDC": 0.45, "GPS_AC": 0.25, "GPS_DA": 0.15, "ALCOHOL": 0.15},
    "COURT_BAIL": {"RF_CURFEW": 0.8, "GPS_BAIL": 0.2},
    "IMMIGRATION_BAIL": {"NFD": 0.7, "GPS_IMM": 0.3},
    "COURT_SENTENCE": {"RF_CURFEW": 0.6, "ALCOHOL": 0.25, "GPS_BAIL": 0.15},
    "SPECIALS": {"SPECIAL": 1.0},
}
_GPS = {"GPS_AC", "GPS_DA", "GPS_BAIL", "GPS_IMM", "SPECIAL"}
_CURFEW = {"HDC", "RF_CURFEW", "GPS_DA", "GPS_BAIL", "SPECIAL"}
_EXCLUSION = {"GPS_AC", "GPS_DA", "GPS_BAIL", "SPECIAL"}

PROFILES = ("compliant", "late_returner", "absconder", "zone_enterer", "drinker", "tamperer", "non_charger")
_PROFILE_BASE = np.array([0.76, 0.10, 0.02, 0.04, 0.02, 0.03, 0.03])

# Per wearer-day probabilities of each behaviour, by profile (the calibration knobs).
DAILY = {
    "late_return": {"compliant": 0.02, "late_returner": 0.30, "absconder": 0.05},
    "absent_night": {"late_returner": 0.03, "absconder": 0.6},
    "early_leave": {"late_returner": 0.05, "compliant": 0.003},  # only curfews ending 06:00 allow it
    "zone_entry": {"zone_enterer": 0.25, "absconder": 0.05},
    "drinking": {"drinker": 0.35, "compliant": 0.005},
    "tamper": {"tamperer": 0.2, "absconder": 0.1},
    "no_charge": {"non_charger": 0.7, "compliant": 0.01},
}


def quota_assign(
    rng: np.random.Generator, n: int, labels: tuple[str, ...], shares: tuple[float, ...]
) -> np.ndarray:
    """Exactly the largest-remainder share of each label, in random order (shares hold at any size)."""
    raw = np.array(shares) / sum(shares) * n
    counts = np.floor(raw).astype(int)
    rest = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    out = np.repeat(np.arange(len(labels)), counts)
    rng.shuffle(out)
    return out


@dataclass
class Population:
    """Global plan of the world, one row a person (cheap to hold for millions)."""

    cohort: np.ndarray  # index into COHORTS
    plan: np.ndarray  # index into PLANS
    profile: np.ndarray  # index into PROFILES
    is_youth: np.ndarray
    defective: np.ndarray  # the order carries injected defects

    def __len__(self) -> int:
        return len(self.cohort)


def plan_population(n: int, seed: int, defect_rate: float = 0.23) -> Population:
    rng = np.random.default_rng([seed, 1])
    cohort = quota_assign(rng, n, COHORTS, COHORT_SHARES)
    plan = np.zeros(n, dtype=np.int64)
    is_youth = np.zeros(n, dtype=bool)
    for ci, name in enumerate(COHORTS):
        idx = np.flatnonzero(cohort == ci)
        mix = PLAN_MIX[name]
        chosen = quota_assign(rng, len(idx), tuple(mix), tuple(mix.values()))
        plan[idx] = np.array([PLANS.index(p) for p in mix])[chosen]
        if name in YOUTH_SHARE:
            is_youth[idx] = rng.random(len(idx)) < YOUTH_SHARE[name]
    # youths are not given alcohol monitoring (a youth with one is an injected defect)
    plan[is_youth & (plan == PLANS.index("ALCOHOL"))] = PLANS.index("RF_CURFEW")
    profile = np.zeros(n, dtype=np.int64)
    for pi, pname in enumerate(PLANS):
        idx = np.flatnonzero(plan == pi)
        probs = _PROFILE_BASE.copy()
        if pname not in _EXCLUSION:
            probs[PROFILES.index("zone_enterer")] = 0
        if pname == "ALCOHOL":
            probs[PROFILES.index("drinker")] = 0.20
        else:
            probs[PROFILES.index("drinker")] = 0
        if pname not in _GPS and pname != "NFD":
            probs[PROFILES.index("non_charger")] = 0
        probs[0] += 1 - probs.sum()
        profile[idx] = rng.choice(len(PROFILES), size=len(idx), p=probs)
    defective = np.zeros(n, dtype=bool)
    defective[quota_assign(rng, n, ("clean", "defective"), (1 - defect_rate, defect_rate)) == 1] = True
    return Population(cohort=cohort, plan=plan, profile=profile, is_youth=is_youth, defective=defective)


def plan_has(plan_idx: np.ndarray, feature: str) -> np.ndarray:
    sets = {
        "gps": _GPS,
        "curfew": _CURFEW,
        "hmu": _CURFEW,
        "rf_tag": {"HDC", "RF_CURFEW"},
        "exclusion": _EXCLUSION,
        "inclusion": {"SPECIAL"},
        "attendance": {"GPS_DA"},
        "victim": {"GPS_DA"},
        "alcohol": {"ALCOHOL"},
        "nfd": {"NFD"},
    }[feature]
    mask = np.array([p in sets for p in PLANS])
    out: np.ndarray = mask[plan_idx]
    return out


@dataclass
class Geography:
    """Per-person places for a chunk; offsets are metres east/north of home."""

    town: np.ndarray  # index into places.towns()
    home_lat: np.ndarray
    home_lon: np.ndarray
    work_xy: np.ndarray  # (n, 2)
    leisure_xy: np.ndarray
    office_xy: np.ndarray  # probation office (attendance)
    zone_xy: np.ndarray  # exclusion zone centre (victim address for domestic abuse)
    zone_r: np.ndarray
    incl_r: np.ndarray  # inclusion zone radius around home (specials)
    rf_range: np.ndarray  # home unit range, metres
    curfew_start_min: np.ndarray  # wall-clock minutes after 07:00 (e.g. 19:00 -> 720)
    curfew_end_min: np.ndarray


OFFICE_MIN_FROM_WORK_M = 500.0


def place_people(rng: np.random.Generator, plan: np.ndarray) -> Geography:
    n = len(plan)
    t = places.towns()
    town = rng.choice(len(t.name), size=n, p=t.weight)
    r_home = rng.uniform(300, 3500, n)
    a_home = rng.uniform(0, 2 * math.pi, n)
    home_lat, home_lon = places.offset_to_lonlat(
        t.lat[town], t.lon[town], r_home * np.cos(a_home), r_home * np.sin(a_home)
    )
    # exclusion zone lies in one direction; daily places lie on the other side so paths do not cross it
    theta = rng.uniform(0, 2 * math.pi, n)
    special = plan == PLANS.index("SPECIAL")

    def around(lo: float, hi: float, spread: float) -> np.ndarray:
        d = rng.uniform(lo, hi, n)
        d = np.where(special, rng.uniform(300, 1300, n), d)
        a = theta + math.pi + rng.uniform(-spread, spread, n)
        return np.column_stack([d * np.cos(a), d * np.sin(a)])

    da = plan == PLANS.index("GPS_DA")
    zone_d = np.where(da, rng.uniform(2500, 6000, n), rng.uniform(2000, 5000, n))
    zone_r = np.where(da, rng.uniform(500, 900, n), rng.uniform(150, 600, n))
    work_xy, office_xy = around(1500, 9000, 1.0), around(800, 2500, 0.8)
    # A workplace next door to the probation office makes "missed the appointment" unknowable from any
    # position (a 100 m appointment radius): keep the office at least 500 m from the workplace.
    gap = office_xy - work_xy
    dist = np.hypot(gap[:, 0], gap[:, 1])
    near = dist < OFFICE_MIN_FROM_WORK_M
    unit = np.where(dist[:, None] > 1.0, gap / np.maximum(dist, 1.0)[:, None], np.array([1.0, 0.0]))
    office_xy = np.where(near[:, None], work_xy + unit * OFFICE_MIN_FROM_WORK_M, office_xy)
    curfew_start = rng.choice([720, 780, 840], size=n, p=[0.6, 0.3, 0.1])  # 19:00, 20:00, 21:00
    curfew_end = rng.choice([1440, 1380], size=n, p=[0.85, 0.15])  # 07:00, 06:00
    return Geography(
        town=town,
        home_lat=home_lat,
        home_lon=home_lon,
        work_xy=work_xy,
        leisure_xy=around(400, 3000, 1.2),
        office_xy=office_xy,
        zone_xy=np.column_stack([zone_d * np.cos(theta), zone_d * np.sin(theta)]),
        zone_r=zone_r,
        incl_r=np.full(n, 2000.0),
        rf_range=rng.uniform(15, 45, n),
        curfew_start_min=curfew_start,
        curfew_end_min=curfew_end,
    )
