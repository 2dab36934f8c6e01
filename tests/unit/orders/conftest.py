from __future__ import annotations

import copy
import random
from datetime import UTC, datetime

import pytest

from openem.orders.rules import validate_order
from openem.orders.samples import sample_order

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def order():
    """A valid court-sentence (community order) order with a curfew, starting 23 Nov 2026."""
    return copy.deepcopy(sample_order(NOW, random.Random(7), cohort="COURT_SENTENCE"))


def codes(doc, now=NOW):
    return {(e.code, e.field) for e in validate_order(doc, now=now)}


def only_codes(doc, now=NOW):
    return {e.code for e in validate_order(doc, now=now)}
