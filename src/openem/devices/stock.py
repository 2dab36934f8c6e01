"""Stock rules as data (`data/stock.json`) and the stock forecast per depot (pure).

The forecast runs week by week: fittings expected at the depot (its recent weekly rate, or the data's default
when it has no history) raised by the Sentencing Act demand rise from its start date, less nothing back but
the devices collected (ended orders x collection rate). A week whose stock falls below the reorder threshold
is flagged; the first such week is when to reorder (less the supplier's lead time, which the buyer knows)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

STOCK_FILE = Path(__file__).with_name("data") / "stock.json"


@lru_cache(maxsize=4)
def load_stock_rules(path: str = str(STOCK_FILE)) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if not 0.0 <= float(data["collection_rate"]) <= 1.0:
        raise ValueError("collection_rate must be between 0 and 1")
    return data


def threshold(rules: dict[str, Any], depot: str, kind: str) -> int:
    t = rules["reorder_thresholds"]
    return int((t.get(depot) or {}).get(kind, t["DEFAULT"].get(kind, 0)))


def demand_rise(rules: dict[str, Any]) -> float:
    """The Sentencing Act rise as a share of today's demand (22,000 a year over 220 a day: about +27%)."""
    d = rules["demand"]
    return float(d["sentencing_act_extra_per_year"]) / (float(d["baseline_new_orders_per_day"]) * 365.0)


@dataclass(frozen=True)
class Week:
    starts: date
    fits: float
    returns: float
    stock: float
    below_threshold: bool


def forecast(*, in_stock: int, weekly_fits: float, weekly_ends: float, start: date, rules: dict[str, Any],
             threshold_level: int, weeks: int | None = None) -> list[Week]:  # fmt: skip
    weeks = int(weeks or rules["forecast_weeks"])
    rise_from = date.fromisoformat(str(rules["demand"]["rise_from"]))
    rise = demand_rise(rules)
    rate = float(rules["collection_rate"])
    stock = float(in_stock)
    out = []
    for i in range(max(0, min(weeks, 104))):
        wk = start + timedelta(weeks=i)
        fits = weekly_fits * (1.0 + rise if wk >= rise_from else 1.0)
        returns = weekly_ends * rate
        stock = stock - fits + returns
        out.append(Week(wk, round(fits, 1), round(returns, 1), round(stock, 1), stock < threshold_level))
    return out


def reorder_week(weeks: list[Week]) -> date | None:
    return next((w.starts for w in weeks if w.below_threshold), None)
