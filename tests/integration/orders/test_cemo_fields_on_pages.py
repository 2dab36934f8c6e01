"""The answers CEMO asks for that openem's pages now ask too: middle names, county, the responsible officer's
phone, the Youth Justice Service region, the release date, the fitter's place, and a variation's own page."""

from __future__ import annotations

from openem.orders.lifecycle import OrderStatus

from .pages_helpers import errors_of, new_order, save, stored


def test_a_person_enters_the_answers_cemo_asks_for_and_sees_them_kept(world, creator):
    ref = new_order(creator)
    page = creator.get(f"/orders/{ref}/device-wearer").text
    assert "Middle names (optional)" in page
    r = save(
        creator,
        ref,
        "device-wearer",
        {
            "device_wearer.first_name": "Ada",
            "device_wearer.middle_name": "Jane Mary",
            "device_wearer.last_name": "Lovel",
            "device_wearer.disabilities": "OTHER",
            "device_wearer.other_disability": "",
        },  # fmt: skip
    )
    # saved, and what the page still lacks shown: ticking "Other" needs saying what it is
    assert stored(world, ref)["device_wearer"]["middle_name"] == "Jane Mary"
    assert ("#device_wearer.other_disability", "Enter device wearer's disability or health condition") in (
        errors_of(r.text)
    )

    save(creator, ref, "addresses", {"addresses[0].type": "PRIMARY", "addresses[0].line1": "1 High Street",
                                    "addresses[0].town": "Leeds", "addresses[0].county": "West Yorkshire",
                                    "addresses[0].postcode": "LS1 4AP"})  # fmt: skip
    assert stored(world, ref)["addresses"][0]["county"] == "West Yorkshire"

    save(creator, ref, "interested-parties", {"interested_parties.responsible_organisation": "YJS",
                                              "interested_parties.youth_justice_region": "LONDON",
                                              "interested_parties.responsible_officer_phone": "0113 496 0954"})  # fmt: skip
    ip = stored(world, ref)["interested_parties"]
    assert (ip["youth_justice_region"], ip["responsible_officer_phone"]) == ("LONDON", "0113 496 0954")

    save(creator, ref, "installation", {"installation.place_name": "Gate 2, HMP Leeds"})
    assert stored(world, ref)["installation"]["place_name"] == "Gate 2, HMP Leeds"


def test_the_variation_page_is_only_on_a_variation(world, creator):
    ref = new_order(creator)
    assert "What the variation changes" not in creator.get(f"/orders/{ref}").text
    from openem.orders.repository import SqlOrderRepository

    with world.db.uow() as uow:
        repo = SqlOrderRepository(uow.session)
        record = repo.get(ref)
        doc = dict(record.latest.document, request_type="VARIATION")
        import dataclasses

        repo.save(record.replace_latest(dataclasses.replace(record.latest, document=doc)))
    assert record.latest.status == OrderStatus.DRAFT
    page = creator.get(f"/orders/{ref}").text
    assert "What the variation changes" in page
    r = save(creator, ref, "variation", {"variation.type": "CHANGE_TO_CURFEW_HOURS", "variation.date-day": "3",
                                         "variation.date-month": "3", "variation.date-year": "2027",
                                         "variation.details": "Later curfew on Fridays"})  # fmt: skip
    assert r.status_code in (200, 303), errors_of(r.text)
    assert stored(world, ref)["variation"] == {
        "type": "CHANGE_TO_CURFEW_HOURS",
        "date": "2027-03-03",
        "details": "Later curfew on Fridays",
    }
