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


def _jpeg_with_gps() -> bytes:
    """A phone's photo: EXIF with the maker, an orientation (turned on its side) and the GPS position."""
    import io

    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = 6  # rotate 90 degrees to show it upright
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (51.0, 28.0, 53.0)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "W", (3.0, 10.0, 45.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _png_with_text() -> bytes:
    import io

    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "51.4816,-3.1791")
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 112, 60)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


JPEG = _jpeg_with_gps()
PNG = _png_with_text()


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
        (
            ("fake.jpg", JPEG[:3] + b"\x00" * 500, "image/jpeg"),
            "could not be read as an image",
        ),  # only the magic
        (("cut.jpg", JPEG[: len(JPEG) // 3], "image/jpeg"), "could not be read as an image"),  # truncated
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
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/jpeg"
    assert b"Exif" not in mine.content and b"PhoneMaker" not in mine.content  # no GPS, no camera details kept
    creator = world.signed_in("demo-order-creator-court")
    order_page = creator.get(f"/orders/{ref}")
    assert order_page.status_code == 200 and f'href="/field/photos/{photo_id}"' in order_page.text
    seen = creator.get(f"/field/photos/{photo_id}")
    assert seen.status_code == 200 and seen.content == mine.content
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


def test_the_kept_photo_has_no_gps_position_and_is_upright() -> None:
    import io

    from PIL import ExifTags, Image

    assert Image.open(io.BytesIO(JPEG)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload carries GPS
    kept, media = fs.clean_photo(JPEG)
    img = Image.open(io.BytesIO(kept))
    assert media == "image/jpeg" and not img.getexif() and b"Exif" not in kept
    assert img.size == (48, 64)  # turned upright by its orientation before the tag went
    png, media = fs.clean_photo(PNG)
    assert media == "image/png" and b"51.4816" not in png and Image.open(io.BytesIO(png)).size == (20, 10)


def test_a_photo_with_too_many_pixels_is_refused(monkeypatch: Any) -> None:
    import pytest

    from openem.core.errors import Invalid

    monkeypatch.setattr(fs, "PHOTO_MAX_PIXELS", 1000)  # a decompression bomb: small file, huge image
    with pytest.raises(Invalid, match="too many pixels"):
        fs.clean_photo(JPEG)
