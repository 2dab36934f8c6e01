"""PDF output is part of the product: an order's receipt is always a real PDF, and a server that cannot make
one says so (503) instead of answering a PDF link with a web page."""

from __future__ import annotations

import builtins
import io

import pytest
from tests.integration.orders.pages_helpers import csrf, new_order, save


@pytest.fixture
def creator(world):
    c = world.signed_in("demo-order-creator-court")
    c.token = csrf(c)
    return c


def test_the_receipt_pdf_is_a_pdf_naming_the_order(creator):
    ref = new_order(creator)
    save(creator, ref, "device-wearer", {"device_wearer.first_name": "Robin"})
    r = creator.get(f"/orders/{ref}/receipt.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert ref in text and "Robin" in text


def test_without_weasyprint_the_pdf_link_answers_503_with_a_reason(creator, monkeypatch):
    ref = new_order(creator)
    real_import = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name == "weasyprint":
            raise ImportError("no weasyprint here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    r = creator.get(f"/orders/{ref}/receipt.pdf", follow_redirects=False)
    assert r.status_code == 503 and "WeasyPrint" in r.text
    assert not r.headers["content-type"].startswith("text/html")
