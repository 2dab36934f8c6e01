"""DAPO clauses on the order pages: asked of a family court (as CEMO asks them) or under the DAPO scheme, each
clause's number and date entered, checked the GOV.UK way, shown on "Check your answers" and sent to the
supplier."""

from __future__ import annotations

import re
from html import unescape

from .pages_helpers import errors_of, new_order, save, stored

TITLE = "Domestic Abuse Protection Order (DAPO) clauses"


def _family_court_order(creator) -> str:
    ref = new_order(creator)
    r = save(
        creator, ref, "interested-parties", {"interested_parties.notifying_organisation": "FAMILY_COURT"}
    )
    assert r.status_code in (200, 422)
    return ref


def _clause(i: int, number: str, day: str = "", month: str = "", year: str = "") -> dict[str, str]:
    base = f"monitoring.dapo_clauses[{i}]"
    return {f"{base}.clause": number, f"{base}.date-day": day, f"{base}.date-month": month,
            f"{base}.date-year": year}  # fmt: skip


def test_the_clauses_are_asked_of_a_family_court_and_under_the_dapo_scheme_only(world, creator):
    other = new_order(creator)
    assert TITLE not in creator.get(f"/orders/{other}").text
    ref = _family_court_order(creator)
    tasks = creator.get(f"/orders/{ref}").text
    assert f'href="/orders/{ref}/dapo-clauses"' in tasks and TITLE in tasks
    save(creator, other, "monitoring", {"monitoring.scheme": "DOMESTIC_ABUSE_PROTECTION_ORDER"})
    assert f'href="/orders/{other}/dapo-clauses"' in creator.get(f"/orders/{other}").text
    page = creator.get(f"/orders/{ref}/dapo-clauses").text
    assert "DAPO clause 1" in page and "DAPO clause 2" not in page  # one blank clause to fill in
    assert 'id="monitoring.dapo_clauses[0].clause"' in page
    assert (
        'id="monitoring.dapo_clauses[0].date"' in page
        and 'name="monitoring.dapo_clauses[0].date-year"' in page
    )


def test_a_clause_without_its_date_is_saved_and_the_missing_date_shown_at_the_date(world, creator):
    ref = _family_court_order(creator)
    r = save(creator, ref, "dapo-clauses", _clause(0, "3(a)"))
    assert r.status_code == 422 and "<title>Error: " in r.text
    assert ("#monitoring.dapo_clauses[0].date", "Enter the date the DAPO clause was made") in errors_of(
        r.text
    )
    assert 'id="monitoring.dapo_clauses[0].date-error"' in r.text and "govuk-form-group--error" in r.text
    [kept] = stored(world, ref)["monitoring"]["dapo_clauses"]  # kept, as drafts are
    assert kept["clause"] == "3(a)" and not kept.get("date")
    submit = creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    links = dict((m, h) for h, m in errors_of(submit.text))
    assert links["Enter the date the DAPO clause was made"] == (
        f"/orders/{ref}/dapo-clauses?check=1#monitoring.dapo_clauses[0].date"
    )
    checked = creator.get(links["Enter the date the DAPO clause was made"].split("#")[0]).text
    assert 'id="monitoring.dapo_clauses[0].date-error"' in checked


def test_a_date_that_does_not_exist_or_a_long_clause_number_is_refused_with_why(world, creator):
    ref = _family_court_order(creator)
    r = save(creator, ref, "dapo-clauses", _clause(0, "3(a)", "31", "2", "2026"))
    assert r.status_code == 422
    assert ("#monitoring.dapo_clauses[0].date", "Date the clause was made must be a real date") in errors_of(
        r.text
    )
    assert 'value="31"' in r.text  # what they typed is shown again to correct
    assert "dapo_clauses" not in (stored(world, ref).get("monitoring") or {})
    r = save(creator, ref, "dapo-clauses", _clause(0, "3(a)(ii) and 4(b)(iii)", "20", "11", "2026"))
    assert r.status_code == 422
    assert (
        "#monitoring.dapo_clauses[0].clause",
        "The DAPO clause number must be 20 characters or fewer",
    ) in errors_of(r.text)


def test_clauses_are_added_removed_checked_and_sent_to_the_supplier(world, creator):
    ref = _family_court_order(creator)
    r = save(creator, ref, "dapo-clauses", _clause(0, "3(a)", "20", "11", "2026"))
    assert r.status_code == 200 and "govuk-task-list" in r.text  # back to the task list
    assert re.search(r"DAPO\) clauses</a>\s*</div>\s*<div[^>]*>\s*Completed", r.text)
    page = creator.get(f"/orders/{ref}/dapo-clauses").text
    assert 'value="3(a)"' in page and "DAPO clause 2" in page  # a blank one to add another
    r = save(creator, ref, "dapo-clauses", {**_clause(0, "3(a)", "20", "11", "2026"),
                                            **_clause(1, "7", "1", "12", "2026")})  # fmt: skip
    assert r.status_code == 200
    assert stored(world, ref)["monitoring"]["dapo_clauses"] == [
        {"clause": "3(a)", "date": "2026-11-20"},
        {"clause": "7", "date": "2026-12-01"},
    ]
    # saving the monitoring page keeps the clauses, which live in the same section
    save(creator, ref, "monitoring", {"monitoring.cohort": "COURT_BAIL"})
    assert len(stored(world, ref)["monitoring"]["dapo_clauses"]) == 2
    check = unescape(creator.get(f"/orders/{ref}/check-answers").text)
    assert "DAPO clause 2: clause number" in check and "1 December 2026" in check
    assert f"/orders/{ref}/dapo-clauses#monitoring.dapo_clauses[1].clause" in check
    # blanking a clause removes it
    r = save(creator, ref, "dapo-clauses", {**_clause(0, ""), **_clause(1, "7", "1", "12", "2026")})
    assert stored(world, ref)["monitoring"]["dapo_clauses"] == [{"clause": "7", "date": "2026-12-01"}]
    fms = creator.get(f"/api/orders/{ref}/fms")
    assert fms.status_code == 200
    assert '"dapo_order_clause_number": "7"' in fms.text.replace('":"', '": "')
