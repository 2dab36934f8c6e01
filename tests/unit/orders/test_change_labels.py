"""The change list names each changed field by the question a person answered, not its path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openem.orders.samples import sample_order
from openem.orders.web.sections import question_for


@pytest.mark.parametrize(("field", "words"), [
    ("device_wearer.last_name", "About the device wearer: Last name"),
    ("contact.phone", "Contact details: Device wearer's phone number"),
    ("conditions.curfew.timetable[2].start", "Curfew: Start, slot 3"),
    ("conditions.curfew.timetable[3]", "Curfew: slot 4"),
    ("addresses[1].postcode", "Addresses: Postcode, address 2"),
    ("conditions.exclusion_zones[0]", "Exclusion, inclusion and restriction zones: exclusion zone 1"),
    ("not.a.field", "not.a.field"),
])  # fmt: skip
def test_changed_fields_read_as_questions(field: str, words: str) -> None:
    assert question_for(sample_order(datetime.now(UTC)), field) == words
