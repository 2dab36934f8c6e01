"""Order documents: type sniffed from the bytes, size limits, access rules, audited downloads."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.orders.samples import sample_order

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def creator(world):
    c = world.signed_in("demo-order-creator-court")
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)
    return c


def _order(creator):
    doc = sample_order(datetime.now(UTC))
    doc.pop("ref", None)
    return creator.post("/api/orders", json=doc).json()["ref"]


def test_upload_list_and_download_a_licence(world, creator):
    ref = _order(creator)
    r = creator.post(
        f"/api/orders/{ref}/documents",
        data={"document_type": "LICENCE"},
        files={"file": ("licence.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    doc = r.json()[0]
    assert doc["kind"] == "pdf" and doc["size_bytes"] == len(PDF)
    got = creator.get(f"/orders/{ref}/documents/{doc['id']}")
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    page = creator.get(f"/orders/{ref}/documents")
    assert page.status_code == 200 and "licence.pdf" in page.text
    with world.db.uow() as uow:
        actions = set(uow.session.execute(select(AuditRow.action)).scalars())
    assert {f"orders:{ref}:upload_document", f"orders:{ref}:read_document"} <= actions


def test_wrong_types_disguised_files_and_hostile_names_are_refused_or_neutralised(world, creator):
    ref = _order(creator)
    r = creator.post(
        f"/api/orders/{ref}/documents",
        data={"document_type": "LICENCE"},
        files={"file": ("licence.pdf", b"<script>alert(1)</script>", "application/pdf")},
    )
    assert r.status_code == 422 and "must be a PDF" in r.json()["message"]
    r = creator.post(
        f"/api/orders/{ref}/documents",
        data={"document_type": "PHOTO_ID"},
        files={"file": ("photo.png", PDF, "image/png")},
    )
    assert r.status_code == 422
    r = creator.post(
        f"/api/orders/{ref}/documents",
        data={"document_type": "NOT_A_TYPE"},
        files={"file": ("x.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document_type"
    r = creator.post(
        f"/api/orders/{ref}/documents",
        data={"document_type": "PHOTO_ID"},
        files={"file": ('../../etc/passwd"<b>.png', PNG, "image/png")},
    )
    assert r.status_code == 201
    name = r.json()[0]["filename"]
    assert name.startswith("passwd") and name.endswith(".png") and not set(name) & set('/\\"<>')
    big = PDF + b"0" * (10 * 1024 * 1024)
    r = creator.post(
        f"/api/orders/{ref}/documents",
        data={"document_type": "LICENCE"},
        files={"file": ("big.pdf", big, "application/pdf")},
    )
    assert r.status_code in (413, 422)
    page = creator.post(
        f"/orders/{ref}/documents",
        data={"document_type": "LICENCE", "csrf_token": creator.headers["X-CSRF-Token"]},
        files={"file": ("empty.pdf", b"", "application/pdf")},
    )
    assert page.status_code == 422 and "The selected file is empty" in page.text


def test_someone_outside_the_case_cannot_download(world, creator):
    ref = _order(creator)
    doc = creator.post(
        f"/api/orders/{ref}/documents",
        data={"document_type": "LICENCE"},
        files={"file": ("l.pdf", PDF, "application/pdf")},
    ).json()[0]
    other = world.signed_in("demo-probation-practitioner")
    assert other.get(f"/orders/{ref}/documents/{doc['id']}").status_code == 404
    assert creator.get(f"/orders/{ref}/documents/DOC-NOPE").status_code == 404
