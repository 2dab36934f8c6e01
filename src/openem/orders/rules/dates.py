"""Dates and durations: readable instants, ends after starts and in the future, conditions inside the order,
age from the date of birth, no alcohol monitoring for youths, maximum and minimum durations, installation
before monitoring starts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from openem.core.time import local_date, to_london
from openem.orders.rules.base import Context, ValidationError, day, instant, items, path, section, text


def add_months(d: date, months: int) -> date:
    """The same day `months` later (clamped to the month's last day)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for dd in (d.day, 30, 29, 28):
        try:
            return date(year, month, dd)
        except ValueError:
            continue
    raise ValueError("unreachable")


def age_on(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _periods(doc: Any) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(field path, dict holding start/end, what it is) for every dated part of the order."""
    yield "monitoring", section(doc, "monitoring"), "monitoring"
    cond = section(doc, "conditions")
    for name in ("curfew", "trail", "alcohol"):
        if isinstance(cond.get(name), dict):
            yield path("conditions", name), cond[name], name
    for name in ("exclusion_zones", "inclusion_zones", "restriction_zones", "attendance"):
        for i, item in items(cond, name):
            yield path("conditions", name, i), item, name.replace("_", " ").rstrip("s")


def _fmt(dt: datetime) -> str:
    local = to_london(dt)
    return f"{local.day} {local.strftime('%B %Y')}"


def check_dates(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    m = section(doc, "monitoring")
    order_start, order_end = instant(m, "start"), instant(m, "end")
    for base, d, what in _periods(doc):
        for key in ("start", "end"):
            if text(d, key) is not None and instant(d, key) is None:
                out.append(
                    ValidationError(
                        "invalid_date",
                        f"{base}.{key}",
                        f"The {what} {key} date must be a real date and time, like 2027-03-28T19:00:00Z",
                    )
                )
        start, end = instant(d, "start"), instant(d, "end")
        if start and end and end <= start:
            out.append(
                ValidationError(
                    "end_before_start", f"{base}.end", f"The {what} end date must be after the start date"
                )
            )
        if end and end <= ctx.now:
            out.append(
                ValidationError("end_in_past", f"{base}.end", f"The {what} end date must be in the future")
            )
        if base == "monitoring" or what == "attendance":
            continue
        if order_start and start and start < order_start:
            out.append(
                ValidationError(
                    "outside_order_dates",
                    f"{base}.start",
                    f"The {what} must not start before monitoring starts ({_fmt(order_start)})",
                )
            )
        if order_end and end and end > order_end:
            out.append(
                ValidationError(
                    "outside_order_dates",
                    f"{base}.end",
                    f"The {what} must not end after monitoring ends ({_fmt(order_end)})",
                )
            )
    for i, a in items(section(doc, "conditions"), "attendance"):
        start, end = instant(a, "start"), instant(a, "end")
        if (order_start and start and start < order_start) or (order_end and end and end > order_end):
            out.append(
                ValidationError(
                    "attendance_outside_order",
                    path("conditions", "attendance", i),
                    "The appointment must be between the dates monitoring starts and ends",
                )
            )
    inst = section(doc, "installation")
    if text(inst, "appointment") is not None:
        appointment = instant(inst, "appointment")
        if appointment is None:
            out.append(
                ValidationError(
                    "invalid_date",
                    "installation.appointment",
                    "The installation appointment must be a real date and time",
                )
            )
        elif order_start and appointment > order_start:
            out.append(
                ValidationError(
                    "install_after_start",
                    "installation.appointment",
                    "The installation appointment must be before monitoring starts",
                )
            )
    return out


def check_age(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    dw = section(doc, "device_wearer")
    raw = text(dw, "date_of_birth")
    if raw is None:
        return out
    dob = day(dw, "date_of_birth")
    if dob is None:
        return [
            ValidationError(
                "invalid_date",
                "device_wearer.date_of_birth",
                "Date of birth must be a real date, like 1990-03-27",
            )
        ]
    today = local_date(ctx.now)
    if dob >= today:
        return [
            ValidationError(
                "date_of_birth_in_future", "device_wearer.date_of_birth", "Date of birth must be in the past"
            )
        ]
    bounds = ctx.policy["age"]
    when = (
        instant(section(doc, "installation"), "appointment")
        or instant(section(doc, "monitoring"), "start")
        or ctx.now
    )
    age = age_on(dob, local_date(when))
    if age < bounds["minimum"] or age > bounds["maximum"]:
        out.append(
            ValidationError(
                "age_implausible",
                "device_wearer.date_of_birth",
                f"Check the date of birth: the device wearer would be {age} at installation",
            )
        )
        return out
    adult = age >= bounds["adult_at"]
    is_adult = dw.get("is_adult")
    if isinstance(is_adult, bool) and is_adult != adult:
        said = "an adult" if is_adult else "under 18"
        out.append(
            ValidationError(
                "age_adult_mismatch",
                "device_wearer.is_adult",
                f"The date of birth shows the device wearer will be {age} at installation, but you said they are {said}",
            )
        )
    is_youth = section(doc, "monitoring").get("is_youth")
    if isinstance(is_youth, bool) and is_youth == adult:
        out.append(
            ValidationError(
                "age_youth_mismatch",
                "monitoring.is_youth",
                f"The date of birth shows the device wearer will be {age} at installation",
            )
        )
    alcohol = section(section(doc, "conditions"), "alcohol")
    if alcohol and not adult:
        out.append(
            ValidationError(
                "alcohol_youth",
                "conditions.alcohol",
                "Alcohol monitoring cannot be ordered for someone under 18",
            )
        )
    return out


def _too_long(start: datetime, end: datetime, months: int) -> bool:
    return local_date(end) > add_months(local_date(start), months)


def _review_gaps(alcohol: Any, start: datetime, end: datetime, every: int | None) -> list[ValidationError]:
    """Alcohol monitoring on licence is reviewed at least every `every` months: from the start to the first
    review, between reviews, and from the last review to the end, no gap may be longer."""
    if not every or not _too_long(start, end, every):
        return []
    raw = alcohol.get("review_dates") if isinstance(alcohol, dict) else None
    field = "conditions.alcohol.review_dates"
    if not raw:
        return [
            ValidationError(
                "reviews_missing",
                field,
                f"Enter review dates: alcohol monitoring on licence must be reviewed every {every} months",
            )
        ]
    reviews = []
    for i, value in enumerate(raw if isinstance(raw, list) else []):
        at = instant({"v": value}, "v")
        if at is None:
            return [ValidationError("invalid_date", f"{field}[{i}]", "Enter a real review date")]
        if not start <= at <= end:
            return [
                ValidationError(
                    "review_outside_dates",
                    f"{field}[{i}]",
                    "Each review date must be between the start and end of alcohol monitoring",
                )
            ]
        reviews.append(at)
    points = [start, *sorted(reviews), end]
    for a, b in zip(points, points[1:], strict=False):
        if _too_long(a, b, every):
            return [
                ValidationError(
                    "reviews_too_far_apart",
                    field,
                    f"Alcohol monitoring on licence must be reviewed at least every {every} months",
                )
            ]
    return []


def check_durations(doc: Any, ctx: Context) -> list[ValidationError]:
    out: list[ValidationError] = []
    policy = ctx.policy
    m = section(doc, "monitoring")
    cohort, scheme = text(m, "cohort"), text(m, "scheme")
    start, end = instant(m, "start"), instant(m, "end")
    if start and end and end > start:
        limit = policy["scheme_max_months"].get(scheme or "")
        if limit and _too_long(start, end, limit):
            out.append(
                ValidationError(
                    "duration_too_long",
                    "monitoring.end",
                    f"Monitoring under this scheme must last {limit} months or less",
                )
            )
        minimum = policy["min_monitoring_days"].get(cohort or "")
        if minimum and end - start < timedelta(days=minimum):
            out.append(
                ValidationError(
                    "duration_too_short",
                    "monitoring.end",
                    f"Do not order a tag for a prison leaver when monitoring would last less than {minimum} days",
                )
            )
    alcohol = section(section(doc, "conditions"), "alcohol")
    a_start, a_end = instant(alcohol, "start"), instant(alcohol, "end")
    if a_start and a_end and a_end > a_start:
        if cohort == "POST_RELEASE" and _too_long(
            a_start, a_end, policy["alcohol_max_months"]["POST_RELEASE"]
        ):
            months = policy["alcohol_max_months"]["POST_RELEASE"]
            out.append(
                ValidationError(
                    "duration_too_long",
                    "conditions.alcohol.end",
                    f"Alcohol monitoring on licence must last {months} months or less",
                )
            )
        out += _review_gaps(
            alcohol, a_start, a_end, policy.get("alcohol_review_every_months", {}).get(cohort or "")
        )
        max_days = policy["alcohol_max_months"]["COURT_SENTENCE_DAYS"]
        if cohort == "COURT_SENTENCE" and (a_end - a_start) > timedelta(days=max_days):
            out.append(
                ValidationError(
                    "duration_too_long",
                    "conditions.alcohol.end",
                    f"An alcohol abstinence monitoring requirement must last {max_days} days or less",
                )
            )
    return out
