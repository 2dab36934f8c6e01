"""Conformance with CEMO: every order CEMO accepts is accepted, every CEMO refusal is refused on the same
field or is a deliberate difference documented in docs/order-validation.md (cases: cemo/conformance.py)."""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path

import pytest
from tests.unit.orders.cemo.conformance import CEMO_REFUSED, CEMO_REFUSED_MORE, CEMO_VALID, Case
from tests.unit.orders.conftest import NOW

from openem.orders.rules import validate_order
from openem.orders.samples import sample_order

DOCS = Path(__file__).resolve().parents[3] / "docs" / "order-validation.md"


def _base() -> dict:
    doc = copy.deepcopy(sample_order(NOW, random.Random(7), cohort="COURT_SENTENCE"))
    doc["monitoring"]["condition_type"] = "REQUIREMENT_OF_A_COMMUNITY_ORDER"
    return doc


def _errors(case: Case) -> list:
    doc = _base()
    case.change(doc)
    return validate_order(doc, now=NOW)


@pytest.mark.parametrize("case", CEMO_VALID, ids=lambda c: c.name)
def test_an_order_cemo_accepts_is_accepted(case: Case) -> None:
    errors = _errors(case)
    assert errors == [], f"{case.name} ({case.cemo_rule}): refused with {errors}"


@pytest.mark.parametrize("case", CEMO_REFUSED + CEMO_REFUSED_MORE, ids=lambda c: c.name)
def test_an_order_cemo_refuses_is_refused_or_the_difference_is_documented(case: Case) -> None:
    errors = _errors(case)
    if case.expect.startswith("DIFFERENCE:"):
        anchor = case.expect.split(":", 1)[1]
        section = DOCS.read_text().split("## Deliberate differences from CEMO", 1)
        assert len(section) == 2 and re.search(rf"\({re.escape(anchor)}\)", section[1]), (
            f"{case.name}: documented as a deliberate difference, but docs/order-validation.md has no ({anchor})"
        )
        return
    fields = {e.field for e in errors}
    assert case.expect in fields, (
        f"{case.name} ({case.cemo_rule}): expected an error on {case.expect}, got {errors}"
    )


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    refused = CEMO_REFUSED + CEMO_REFUSED_MORE
    assert len(CEMO_VALID) >= 20 and len(refused) >= 100
    assert len({c.name for c in refused}) == len(refused), "each case is named once"
    documented = [c for c in refused if c.expect.startswith("DIFFERENCE:")]
    assert len(documented) <= 14, "most CEMO refusals must be matched, not documented away"
