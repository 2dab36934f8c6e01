"""The audit page as an administrator uses it: names beside ids, filters (who, action, record, London dates),
pages of 50, and a CSV export of the filtered records that is itself audited."""

import csv
import io
import re
from datetime import UTC, datetime

from sqlalchemy import select, update

from openem.auth import audit
from openem.auth.tables import AuditRow, UserRow


def user(world, username: str) -> UserRow:
    with world.db.uow() as uow:
        row = uow.session.execute(select(UserRow).where(UserRow.username == username)).scalar_one()
        uow.session.expunge(row)
        return row


def add_rows(world, n: int, *, actor: str, action: str, records=(), at=None) -> None:
    with world.db.uow() as uow:
        for _ in range(n):
            audit.record(uow.session, actor=actor, action=action, records=list(records), at=at)


def shown_actions(text: str) -> list[str]:
    return re.findall(r'<td class="govuk-table__cell openem-break">([^<]*:[^<]*)</td>', text)


def test_records_show_who_by_name_and_the_times_in_london(world):
    analyst = user(world, "demo-analyst")
    add_rows(
        world, 1, actor=analyst.id, action="mi:report:read", at=datetime(2026, 7, 1, 19, 31, 5, tzinfo=UTC)
    )
    page = world.signed_in("demo-admin").get("/admin/audit?action=mi:")
    assert page.status_code == 200
    assert f"{analyst.display_name}" in page.text and analyst.id in page.text
    assert "1 July 2026 at 8:31:05pm" in page.text  # 19:31 UTC is 20:31 BST
    assert "Audit chain intact" in page.text


def test_filters_by_person_action_record_and_dates(world):
    analyst, operator = user(world, "demo-analyst"), user(world, "demo-mc-operator")
    add_rows(
        world,
        2,
        actor=analyst.id,
        action="orders:ORD-AAA111:read",
        records=["ORD-AAA111"],
        at=datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
    )  # 28 March in London (GMT)
    add_rows(
        world,
        3,
        actor=operator.id,
        action="alerts:ALR-1:read_evidence",
        records=["ALR-1", "ORD-BBB222"],
        at=datetime(2026, 3, 29, 23, 30, tzinfo=UTC),
    )  # 30 March 00:30 in London (BST)
    admin = world.signed_in("demo-admin")
    by_name = admin.get("/admin/audit", params={"actor": "demo-analyst", "action": "orders:"})
    assert "Showing 1 to 2 of 2 records" in by_name.text
    by_record = admin.get("/admin/audit", params={"record": "ORD-BBB222"})
    assert "of 3 records" in by_record.text and set(shown_actions(by_record.text)) == {
        "alerts:ALR-1:read_evidence"
    }
    by_subject = admin.get("/admin/audit", params={"record": "ORD-AAA111"})
    assert "of 2 records" in by_subject.text
    day = {
        "from-day": "30",
        "from-month": "3",
        "from-year": "2026",
        "to-day": "30",
        "to-month": "3",
        "to-year": "2026",
    }
    by_day = admin.get("/admin/audit", params=day)
    assert "of 3 records" in by_day.text and set(shown_actions(by_day.text)) == {"alerts:ALR-1:read_evidence"}
    wildcard = admin.get("/admin/audit", params={"action": "%"})
    assert "No records match" in wildcard.text  # typed text is matched literally


def test_a_wrong_date_is_explained_and_nothing_is_lost(world):
    admin = world.signed_in("demo-admin")
    r = admin.get(
        "/admin/audit",
        params={"actor": "demo-analyst", "from-day": "31", "from-month": "2", "from-year": "2026"},
    )
    assert r.status_code == 422
    assert "The start date must be a real date" in r.text and 'value="demo-analyst"' in r.text
    r = admin.get(
        "/admin/audit",
        params={
            "from-day": "2",
            "from-month": "3",
            "from-year": "2026",
            "to-day": "1",
            "to-month": "3",
            "to-year": "2026",
        },
    )
    assert "The end date must be the same as or after the start date" in r.text


def test_pages_of_fifty_keep_the_filters(world):
    add_rows(world, 120, actor="device:GW-PAGES", action="telemetry:GW-PAGES:batch")
    admin = world.signed_in("demo-admin")
    first = admin.get("/admin/audit", params={"actor": "device:GW-PAGES"})
    assert "Showing 1 to 50 of 120 records" in first.text
    assert 'href="?actor=device%3AGW-PAGES&amp;page=2#records"' in first.text
    last = admin.get("/admin/audit", params={"actor": "device:GW-PAGES", "page": "3"})
    assert "Showing 101 to 120 of 120 records" in last.text and len(shown_actions(last.text)) == 20
    beyond = admin.get("/admin/audit", params={"actor": "device:GW-PAGES", "page": "99"})
    assert "Showing 101 to 120" in beyond.text


def test_export_gives_the_filtered_rows_as_csv_and_is_audited(world):
    analyst = user(world, "demo-analyst")
    add_rows(world, 3, actor=analyst.id, action="insights:PER-1:read_trail", records=["PER-1"])
    add_rows(world, 2, actor=analyst.id, action="insights:PER-2:read_trail", records=["=cmd|' /C calc'!A0"])
    admin = world.signed_in("demo-admin")
    page = admin.get("/admin/audit", params={"action": "insights:"})
    link = re.search(r'href="(/admin/audit/export\.csv[^"]*)"', page.text).group(1).replace("&amp;", "&")
    r = admin.get(link)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 5 and {x["action"] for x in rows} == {
        "insights:PER-1:read_trail",
        "insights:PER-2:read_trail",
    }
    assert rows[0]["actor_name"] == analyst.display_name or analyst.username in rows[0]["actor_name"]
    assert all(not x["records"].startswith("=") for x in rows)  # no spreadsheet formulas
    with world.db.uow() as uow:
        [export] = (
            uow.session.execute(select(AuditRow).where(AuditRow.action == "auth:audit:export"))
            .scalars()
            .all()
        )
        assert export.details == {"filters": {"action": "insights:"}, "rows": 5}


def test_a_broken_chain_is_shown(world):
    add_rows(world, 3, actor="anonymous", action="auth:login:failed")
    with world.db.uow() as uow:
        uow.session.execute(update(AuditRow).where(AuditRow.seq == 2).values(actor="someone-else"))
    page = world.signed_in("demo-admin").get("/admin/audit")
    assert "The audit chain is broken" in page.text


def test_only_auditors_see_or_export_it(world):
    operator = world.signed_in("demo-mc-operator")
    assert operator.get("/admin/audit").status_code == 403
    assert operator.get("/admin/audit/export.csv").status_code == 403
