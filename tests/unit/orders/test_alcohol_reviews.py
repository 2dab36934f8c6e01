"""Alcohol monitoring on licence is reviewed at least every 3 months (policy data)."""

from datetime import UTC, datetime, timedelta

from openem.core.time import iso
from openem.orders.rules import validate_order
from openem.orders.samples import sample_order

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def _licence_alcohol(reviews):
    doc = sample_order(NOW)
    doc["monitoring"]["cohort"] = "POST_RELEASE"
    start = datetime.fromisoformat(doc["monitoring"]["start"].replace("Z", "+00:00"))
    doc["monitoring"]["end"] = iso(start + timedelta(days=250))
    doc["conditions"]["alcohol"] = {
        "mode": "ABSTINENCE",
        "start": iso(start),
        "end": iso(start + timedelta(days=200)),
    }
    if reviews is not None:
        doc["conditions"]["alcohol"]["review_dates"] = [iso(start + timedelta(days=d)) for d in reviews]
    return doc


def codes(doc):
    return {e.code for e in validate_order(doc, now=NOW) if e.field.startswith("conditions.alcohol")}


def test_long_licence_alcohol_monitoring_needs_review_dates():
    assert "reviews_missing" in codes(_licence_alcohol(None))


def test_reviews_more_than_three_months_apart_are_refused():
    assert "reviews_too_far_apart" in codes(_licence_alcohol([100]))


def test_reviews_every_three_months_pass():
    assert not codes(_licence_alcohol([80, 160]))


def test_a_review_outside_the_monitoring_dates_is_refused():
    assert "review_outside_dates" in codes(_licence_alcohol([80, 160, 400]))
