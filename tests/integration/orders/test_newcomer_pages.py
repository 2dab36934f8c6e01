"""Pages as a newcomer finds them (issue 13): the service navigation, the operator's figures, the orders list
(tabs counted by real statuses, search across tabs by CRN or PNC, pages of 25), ending an order, an order in
force with its devices, alerts and map, drafts for people who cannot edit them, the court-only import, and the
order-entry fixes (sections counted by answers, the conditions error, cross-section errors on save, zones)."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from html import unescape

from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.bus.outbox import OutboxRow
from openem.orders.samples import sample_order
from openem.orders.web.context import order_service

from .pages_helpers import errors_of, form_for, new_order, save


def letters(n: int) -> str:
    return chr(97 + n // 26 % 26) + chr(97 + n % 26)


def distinct_doc(n: int) -> dict:
    """A valid order for the n-th different person (no possible duplicates between them)."""
    doc = sample_order(datetime.now(UTC))
    doc.pop("ref", None)
    w = doc["device_wearer"]
    w.update(
        first_name="Person",
        last_name=f"Test{letters(n)}",
        pnc=f"2019/{n:07d}Z",
        crn=f"T{n:06d}",
        date_of_birth=f"19{50 + n % 40}-0{1 + n % 9}-1{n % 9}",
        home_office_reference=f"HO-T{n:05d}",
    )
    return doc


def seed_orders(world, states: list[str], first: int = 0) -> list[str]:
    """Orders through the service, each left in one state: DRAFT, SUBMITTED, ACCEPTED, ACTIVE, REJECTED, ENDED."""
    refs = []
    with world.db.uow() as uow:
        svc = order_service(uow)
        for i, state in enumerate(states):
            ref = svc.create_draft("seed", distinct_doc(first + i)).record.ref
            if state != "DRAFT":
                svc.submit("seed", ref)
            if state == "REJECTED":
                svc.reject("seed", ref, ["Wrong court"])
            elif state in ("ACCEPTED", "ACTIVE", "ENDED"):
                svc.accept("seed", ref)
                if state in ("ACTIVE", "ENDED"):
                    svc.activate("seed", ref)
                if state == "ENDED":
                    svc.end("seed", ref, "Sentence served")
            refs.append(ref)
    return refs


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def nav_links(html: str) -> list[tuple[str, bool]]:
    block = html.split('class="govuk-service-navigation__list"', 1)[1].split("</ul>", 1)[0]
    return [
        (text_of(m[1]).strip(), "aria-current" in m[0]) for m in re.findall(r"(<a [^>]*>)(.*?)</a>", block)
    ]


def test_the_navigation_offers_what_each_role_can_do_and_marks_where_you_are(world, operator, creator):
    page = operator.get("/orders").text
    assert nav_links(page) == [
        ("Alerts", False),
        ("Incidents", False),
        ("Orders", True),
        ("People", False),
        ("Breaches", False),
    ]
    nav_list = page.split('class="govuk-service-navigation__list"', 1)[1].split("</ul>", 1)[0]
    assert "Signed in as" not in nav_list and "Sign out" not in nav_list  # outside the list
    assert "Signed in as <strong>demo-mc-operator</strong>" in page
    assert nav_links(operator.get("/alerts").text) == [
        ("Alerts", True),
        ("Incidents", False),
        ("Orders", False),
        ("People", False),
        ("Breaches", False),
    ]
    assert nav_links(creator.get("/").text) == [
        ("Orders", False),
        ("Breaches", False),
    ]  # a court decides on bail breaches
    admin = world.signed_in("demo-admin")
    assert ("Admin", True) in nav_links(admin.get("/admin/users").text)


def test_the_operators_home_counts_the_work_waiting(world, operator):
    seed_orders(world, ["SUBMITTED", "SUBMITTED", "ACTIVE", "ACTIVE", "ACTIVE", "ACCEPTED", "DRAFT"])
    home = text_of(operator.get("/").text)
    assert "2 orders awaiting review" in home
    assert "3 active orders" in home
    assert "1 order accepted, not yet fitted" in home
    assert "0 open alerts" in home


def test_the_tabs_count_orders_by_their_real_status(world, operator):
    seed_orders(world, ["ACTIVE"] * 3 + ["ACCEPTED", "SUBMITTED", "REJECTED", "ENDED", "DRAFT"])
    page = text_of(operator.get("/orders?tab=active").text)
    for label in (
        "Active (3)",
        "Accepted, not yet fitted (1)",
        "Submitted (1)",
        "Failed (rejected) (1)",
        "Ended (1)",
        "All orders (7)",
    ):  # the draft is its creator's, not yet an order
        assert label in page, label
    assert "Drafts" not in page
    assert page.count("Person Test") == 3


def test_a_search_looks_in_every_tab_by_reference_name_crn_or_pnc(world, operator):
    refs = seed_orders(world, ["ACTIVE", "SUBMITTED", "REJECTED"])
    crn, pnc = distinct_doc(2)["device_wearer"]["crn"], distinct_doc(0)["device_wearer"]["pnc"]
    # the operator starts on the Submitted tab; the search form sends no tab, so it looks in every tab
    by_crn = operator.get("/orders", params={"q": crn.lower()}).text
    assert refs[2] in by_crn and refs[0] not in by_crn and refs[1] not in by_crn
    assert "Failed (rejected) (1)" in text_of(by_crn) and "Submitted (0)" in text_of(by_crn)
    by_pnc = operator.get("/orders", params={"q": pnc}).text
    assert refs[0] in by_pnc and refs[1] not in by_pnc
    narrowed = operator.get(
        "/orders", params={"q": pnc, "tab": "submitted"}
    ).text  # a tab link keeps the search
    assert refs[0] not in narrowed
    assert refs[1] in operator.get("/orders", params={"q": refs[1][-8:]}).text
    assert refs[1] in operator.get("/orders", params={"q": "person testab"}).text
    nothing = operator.get("/orders", params={"q": "%"}).text  # a LIKE wildcard is only a character
    assert all(r not in nothing for r in refs)


def test_a_long_list_comes_in_pages_of_25(world, operator):
    refs = seed_orders(world, ["SUBMITTED"] * 27)
    first = operator.get("/orders?tab=submitted").text
    assert first.count('data-label="Reference"') == 25
    assert 'class="govuk-pagination"' in first and "Showing 1 to 25" in text_of(first)
    second = operator.get("/orders?tab=submitted&page=2").text
    assert second.count('data-label="Reference"') == 2
    shown = set(re.findall(r'href="/orders/(ORD-[A-Z0-9]+)"', first + second))
    assert shown == set(refs)
    assert operator.get("/orders?tab=submitted&page=99").status_code == 200  # past the end: the last page


def test_the_operator_ends_an_active_order_with_a_reason_and_a_confirmation(world, operator):
    [ref] = seed_orders(world, ["ACTIVE"])
    overview = operator.get(f"/orders/{ref}").text
    assert f'href="/orders/{ref}/end"' in overview
    r = operator.post(f"/orders/{ref}/end", data={"csrf_token": operator.token, "reason": ""})
    assert r.status_code == 422
    assert [m for _, m in errors_of(r.text)] == [
        "Enter why monitoring is ending",
        "Confirm that monitoring should end and the equipment be collected",
    ]
    r = operator.post(
        f"/orders/{ref}/end",
        data={"csrf_token": operator.token, "reason": "Revoked by the court", "confirm": "yes"},
    )
    assert r.status_code == 200 and "Monitoring has ended" in r.text
    assert ">Ended<" in r.text or "Ended" in text_of(r.text)
    with world.db.uow() as uow:
        topics = list(uow.session.execute(select(OutboxRow.topic)).scalars())
        audited = list(
            uow.session.execute(select(AuditRow).where(AuditRow.action == f"orders:{ref}:end")).scalars()
        )
    assert "orders.OrderEnded" in topics
    assert audited and audited[0].details["reason"] == "Revoked by the court"
    assert operator.get(f"/orders/{ref}/end").status_code == 200  # an ended order: back to its page
    creator = world.signed_in("demo-order-creator-court")
    assert creator.get(f"/orders/{ref}/end").status_code in (403, 404)


def test_an_active_order_shows_its_devices_alerts_and_map(world, operator):
    from openem.alerts.tables import AlertRow
    from openem.devices.tables import ActivationRow

    [ref] = seed_orders(world, ["ACTIVE"])
    now = datetime.now(UTC)
    with world.db.uow() as uow:
        uow.session.add(
            ActivationRow(
                activation_id="ACT-T1",
                device_id="GPS-T1",
                device_kind="GPS_TAG",
                order_ref=ref,
                person_id="P-T1",
                role="WEARER",
                start=now - timedelta(days=1),
            )
        )
        uow.session.add(
            AlertRow(
                alert_id="AL-T1",
                kind="exclusion_entry",
                severity="HIGH",
                person_id="P-T1",
                order_ref=ref,
                device_id="GPS-T1",
                start=now,
                detected_at=now,
                stored_at=now,
            )
        )
    page = operator.get(f"/orders/{ref}").text
    assert "GPS-T1" in page and "GPS tag" in page and "Still fitted" in page
    assert 'href="/alerts/AL-T1"' in page
    assert 'id="map"' in page and "/static/orders/zone-map.js" in page


def test_accept_and_reject_come_after_the_answers_being_reviewed(world, operator):
    [ref] = seed_orders(world, ["SUBMITTED"])
    page = operator.get(f"/orders/{ref}").text
    assert page.index("govuk-summary-list") < page.index("Accept order") < page.index("Reject order")


def test_police_see_a_draft_read_only_and_not_in_their_list(world, creator):
    ref = new_order(creator)
    doc = distinct_doc(5)
    doc["interested_parties"]["police_area"] = "WEST_YORKSHIRE"  # the demo police officer's force
    assert save(creator, ref, "interested-parties", form_for("interested-parties", doc)).status_code in (
        200,
        422,
    )
    police = world.signed_in("demo-police-officer")
    page = police.get(f"/orders/{ref}")
    assert page.status_code == 200
    assert "govuk-task-list" not in page.text and f'href="/orders/{ref}/device-wearer"' not in page.text
    assert ref not in police.get("/orders").text


def test_only_court_creators_are_offered_the_court_results_import(world, creator):
    assert 'href="/orders/import"' in creator.get("/orders").text
    prison = world.signed_in("demo-order-creator-prison")
    assert 'href="/orders/import"' not in prison.get("/orders").text
    assert prison.get("/orders/import").status_code == 403


def test_a_blank_order_has_completed_no_sections(world, creator):
    ref = new_order(creator)
    page = text_of(creator.get(f"/orders/{ref}").text)
    done, total = map(int, re.search(r"You have completed (\d+) of (\d+) sections", page).groups())
    assert done == 0 and total > 0
    doc = sample_order(datetime.now(UTC))
    save(creator, ref, "contact", form_for("contact", doc))
    page = text_of(creator.get(f"/orders/{ref}").text)
    assert "You have completed 1 of" in page


def test_the_missing_condition_error_leads_to_where_conditions_are_chosen(world, creator):
    ref = new_order(creator)
    doc = sample_order(datetime.now(UTC))
    doc["monitoring"]["cohort"] = "COURT_BAIL"  # immigration bail needs no condition
    r = save(creator, ref, "monitoring", form_for("monitoring", doc))
    assert "Select at least one monitoring condition" not in r.text  # not pinned to the order-type radios
    r = creator.post(f"/orders/{ref}/submit", data={"csrf_token": creator.token})
    links = dict((m, h) for h, m in errors_of(r.text))
    assert links["Select at least one monitoring condition"] == f"/orders/{ref}?check=1#conditions"
    task_list = creator.get(f"/orders/{ref}?check=1").text
    assert 'id="conditions"' in task_list and "Select at least one monitoring condition" in task_list
    assert f'href="/orders/{ref}/curfew' in task_list.split('id="conditions"', 1)[1]


def test_a_rule_across_sections_is_shown_when_the_other_section_is_saved(world, creator):
    ref = new_order(creator)
    doc = sample_order(datetime.now(UTC))
    parties = form_for("interested-parties", doc)
    parties["interested_parties.responsible_organisation"] = "PROBATION"
    save(creator, ref, "interested-parties", parties)
    monitoring = form_for("monitoring", doc)
    monitoring["monitoring.cohort"] = "IMMIGRATION_BAIL"
    r = save(creator, ref, "monitoring", monitoring)
    found = [(h, m) for h, m in errors_of(r.text) if "responsible organisation" in m]
    assert found, errors_of(r.text)
    assert found[0][0].startswith(
        f"/orders/{ref}/interested-parties?check=1#interested_parties.responsible_organisation"
    )


def test_a_time_field_has_a_hint_not_a_placeholder(world, creator):
    ref = new_order(creator)
    page = creator.get(f"/orders/{ref}/monitoring").text
    assert "placeholder" not in page
    assert 'id="monitoring.start-hint"' in page and "24-hour clock" in page


def test_the_court_list_is_enhanced_as_an_autocomplete(world, creator):
    ref = new_order(creator)
    page = creator.get(f"/orders/{ref}/interested-parties").text
    select_tag = re.search(
        r'<select[^>]*id="interested_parties.notifying_organisation_name"[^>]*>', page
    ).group(0)
    assert 'data-module="openem-autocomplete"' in select_tag  # still a select without JavaScript
    assert "/static/vendor/autocomplete/accessible-autocomplete.min.js" in page


def test_zones_show_their_dates_and_count_corners_the_same_everywhere(world, creator):
    ref = new_order(creator)
    doc = sample_order(datetime.now(UTC))
    square = [[-1.55, 53.80], [-1.54, 53.80], [-1.54, 53.81], [-1.55, 53.81], [-1.55, 53.80]]
    zone = {
        "id": "Z1",
        "name": "Park",
        "geometry": {"type": "Polygon", "coordinates": [square]},
        "start": doc["monitoring"]["start"],
        "end": doc["monitoring"]["end"],
    }
    with world.db.uow() as uow:
        order_service(uow).update_section(
            "seed", ref, "conditions", {"exclusion_zones": [copy.deepcopy(zone)]}
        )
    zones = creator.get(f"/orders/{ref}/zones").text
    row = text_of(zones.split('id="zones"', 1)[1].split("</table>", 1)[0])
    assert "All the time" not in row and "From " in row
    assert re.search(r"Points\s+4\b", row) or ">4<" in zones
    check = text_of(creator.get(f"/orders/{ref}/check-answers").text)
    assert "A polygon of 4 points" in check


def test_times_are_shown_in_london_in_the_govuk_style(world, operator):
    [ref] = seed_orders(world, ["SUBMITTED"])
    page = operator.get(f"/orders/{ref}").text
    assert not re.search(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", text_of(page))  # no ISO or UTC strings
    assert "(UTC)" not in page
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4} at (\d{1,2}(:\d\d)?[ap]m|midnight|midday)", text_of(page))
    listing = text_of(operator.get("/orders").text)
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4} at ", listing) and "(UTC)" not in listing
