"""A photo of the fitted equipment on the officer's attempt form: JPEG or PNG up to 5 MB, stored with the
attempt, audited, seen by the order's roles; hostile uploads refused with why, never a 500."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from openem.auth.tables import AuditRow, UserRow
from openem.core.time import FrozenClock, utcnow
from openem.devices import service as ds
from openem.field import service as fs
from openem.field.tables import AttemptPhotoRow, AttemptRow

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _order_with_visit(world: Any) -> tuple[str, str]:
    import dataclasses
    import json

    from openem.orders.repository import SqlOrderRepository
    from openem.orders.samples import sample_order
    from openem.orders.service import OrderService

    now = datetime.now(UTC)
    doc = sample_order(now, random.Random(7), cohort="COURT_BAIL")
    with world.db.uow() as uow:
        creator = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-order-creator-court")
        ).scalar_one()
        officer = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-field-officer")
        ).scalar_one()
        svc = OrderService(SqlOrderRepository(uow.session), FrozenClock(now), unit=uow)
        ref = svc.create_draft(creator.id, doc).record.ref
        svc.submit(creator.id, ref)
        accepted = svc.accept("operator", ref).events[0]
        fs.on_order_accepted(json.loads(json.dumps(dataclasses.asdict(accepted), default=str)), uow)
        ds.register_devices(
            uow.session, actor="stock", devices=[{"device_id": "TAG7", "device_kind": "RF_TAG"}]
        )
        fs.plan_day(uow.session, actor="t", officer=officer.id, day=utcnow().date().isoformat(),
                    visit_ids=[f"FIT-{ref}"])  # fmt: skip
    return str(ref), f"FIT-{ref}"


def _token(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', text).group(1)  # type: ignore[union-attr]


def _attempts(world: Any, vid: str) -> int:
    with world.db.uow() as uow:
        return len(uow.session.execute(select(AttemptRow).where(AttemptRow.visit_id == vid)).scalars().all())


def test_hostile_photos_are_refused_with_why_and_nothing_is_recorded(world: Any) -> None:
    _, vid = _order_with_visit(world)
    c = world.signed_in("demo-field-officer")
    page = c.get(f"/field/visits/{vid}")
    assert 'enctype="multipart/form-data"' in page.text and 'name="photo"' in page.text
    data = {"csrf_token": _token(page.text), "outcome": "FITTED", "device_id": "TAG7"}
    cases = [
        (("fitted.jpg", b"GIF89a" + b"\x00" * 100, "image/jpeg"), "must be a JPEG or PNG"),  # renamed .jpg
        (("fitted.jpg", b"<script>alert(1)</script>", "image/jpeg"), "must be a JPEG or PNG"),
        (("big.jpg", JPEG[:3] + b"\x00" * (5 * 1024 * 1024), "image/jpeg"), "5 MB or smaller"),
        (("empty.jpg", b"", "image/jpeg"), "The photo is empty"),
    ]
    for upload, why in cases:
        r = c.post(f"/field/visits/{vid}", data=data, files={"photo": upload})
        assert r.status_code == 422, upload[0]
        assert why in r.text and 'id="photo-error"' in r.text
    assert _attempts(world, vid) == 0  # the officer tries again with a good photo; nothing half-recorded


def test_a_photo_is_stored_with_the_attempt_audited_and_seen_by_the_orders_roles(world: Any) -> None:
    ref, vid = _order_with_visit(world)
    c = world.signed_in("demo-field-officer")
    page = c.get(f"/field/visits/{vid}")
    data = {"csrf_token": _token(page.text), "outcome": "FITTED", "device_id": "TAG7"}
    ok = c.post(f"/field/visits/{vid}", data=data, files={"photo": ("IMG_0001.JPG", JPEG, "image/jpeg")})
    assert ok.status_code == 200 and f"Outcome recorded for visit {vid}" in ok.text
    with world.db.uow() as uow:
        (photo,) = uow.session.execute(select(AttemptPhotoRow)).scalars().all()
        (attempt,) = uow.session.execute(select(AttemptRow).where(AttemptRow.visit_id == vid)).scalars().all()
        assert photo.attempt_id == attempt.attempt_id and photo.media_type == "image/jpeg"
        photo_id = photo.photo_id
        actions = set(uow.session.execute(select(AuditRow.action)).scalars())
    assert f"field:{vid}:photo" in actions
    mine = c.get(f"/field/photos/{photo_id}")
    assert mine.status_code == 200 and mine.content == JPEG and mine.headers["content-type"] == "image/jpeg"
    creator = world.signed_in("demo-order-creator-court")
    order_page = creator.get(f"/orders/{ref}")
    assert order_page.status_code == 200 and f'href="/field/photos/{photo_id}"' in order_page.text
    seen = creator.get(f"/field/photos/{photo_id}")
    assert seen.status_code == 200 and seen.content == JPEG
    outsider = world.signed_in("demo-order-creator-prison")
    assert outsider.get(f"/field/photos/{photo_id}").status_code == 404
    assert outsider.get("/field/photos/999999").status_code == 404
    assert creator.get("/field/photos/not-a-number").status_code in (404, 422)
    with world.db.uow() as uow:
        reads = uow.session.execute(
            select(AuditRow).where(AuditRow.action == f"field:{vid}:photo:read")
        ).scalars()
        assert len(list(reads)) == 2


def test_a_png_is_taken_and_no_photo_is_fine(world: Any) -> None:
    _, vid = _order_with_visit(world)
    c = world.signed_in("demo-field-officer")
    token = _token(c.get(f"/field/visits/{vid}").text)
    none = c.post(f"/field/visits/{vid}", data={"csrf_token": token, "outcome": "NOT_AT_HOME"},
                  files={"photo": ("", b"", "application/octet-stream")})  # fmt: skip
    assert none.status_code == 200
    assert fs.check_photo(PNG) == "image/png"
