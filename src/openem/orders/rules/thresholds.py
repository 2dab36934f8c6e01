"""Per-order threshold overrides (`thresholds`, read by the monitoring engine) bounded by policy data
(`order_thresholds`): only listed keys, numbers, inside the allowed range; an order may tighten a threshold
but not loosen it past the range."""

from __future__ import annotations

from typing import Any

from openem.orders.rules.base import Context, ValidationError, number, path


def _fmt(value: float) -> str:
    return f"{value:g}"


def check_thresholds(doc: Any, ctx: Context) -> list[ValidationError]:
    raw = doc.get("thresholds")
    if raw is None or not isinstance(raw, dict):
        return []  # wrong types are reported by the structure rule
    allowed: dict[str, Any] = {
        k: v for k, v in ctx.policy.get("order_thresholds", {}).items() if not k.startswith("_")
    }
    out: list[ValidationError] = []
    for group, values in raw.items():
        if not isinstance(values, dict):
            continue
        bounds_group = allowed.get(str(group))
        if bounds_group is None:
            out.append(
                ValidationError(
                    "threshold_unknown",
                    path("thresholds", str(group)[:100]),
                    f"{str(group)[:100]!r} is not a threshold an order can set. "
                    f"An order can set: {', '.join(sorted(allowed))}",
                )
            )
            continue
        for key in values:
            field = path("thresholds", str(group)[:100], str(key)[:100])
            bounds = bounds_group.get(str(key))
            if bounds is None:
                out.append(
                    ValidationError(
                        "threshold_unknown",
                        field,
                        f"{str(key)[:100]!r} is not a {group} threshold an order can set. "
                        f"An order can set: {', '.join(sorted(bounds_group))}",
                    )
                )
                continue
            value = number(values, key)
            if value is None:
                out.append(ValidationError("wrong_type", field, f"The {bounds['label']} must be a number"))
                continue
            out.extend(_range(value, bounds, field))
    return out


def _range(value: float, bounds: dict[str, Any], field: str) -> list[ValidationError]:
    lo, hi, unit, what = float(bounds["min"]), float(bounds["max"]), bounds["unit"], bounds["label"]
    strict_low = bounds.get("stricter") == "lower"
    loose_limit, strict_limit = (hi, lo) if strict_low else (lo, hi)
    looser = value > hi if strict_low else value < lo
    stricter = value < lo if strict_low else value > hi
    if looser:
        word = "more" if strict_low else "less"
        return [
            ValidationError(
                "threshold_looser_than_policy",
                field,
                f"The {what} must be {_fmt(loose_limit)} {unit} or {'less' if strict_low else 'more'}. "
                f"An order can make monitoring stricter, not looser: {_fmt(value)} {unit} is {word} "
                f"than policy allows",
            )
        ]
    if stricter:
        return [
            ValidationError(
                "threshold_out_of_range",
                field,
                f"The {what} must be between {_fmt(lo)} and {_fmt(hi)} {unit}. "
                f"{_fmt(value)} {unit} is stricter than monitoring can reliably judge "
                f"(the strictest is {_fmt(strict_limit)} {unit})",
            )
        ]
    return []
