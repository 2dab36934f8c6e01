from __future__ import annotations

import json

import pytest

from openem.orders import policy
from openem.orders.documents import check_document, zone_from_geojson
from openem.orders.rules.base import Context

from .conftest import NOW

CTX = Context(now=NOW, policy=policy.load())
PDF = b"%PDF-1.7\n" + b"x" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 100
RING = [[-1.56, 53.79], [-1.54, 53.79], [-1.54, 53.81], [-1.56, 53.81], [-1.56, 53.79]]


@pytest.mark.parametrize(
    "kind,data,code",
    [
        ("LICENCE", PDF, None),
        ("PHOTO_ID", PNG, None),
        ("LICENCE", PNG, "file_wrong_type"),
        ("PHOTO_ID", b"<html><script>", "file_wrong_type"),
        ("LICENCE", b"MZ\x90\x00 pretending.pdf", "file_wrong_type"),
        ("LICENCE", b"", "file_empty"),
        ("PHOTO_ID", PNG + b"x" * (6 * 1024 * 1024), "file_too_large"),
        ("TAX_RETURN", PDF, "unknown_code"),
    ],
)
def test_documents_are_sniffed_and_limited(kind, data, code):
    errors = check_document(kind, data)
    assert [e.code for e in errors] == ([code] if code else [])


@pytest.mark.parametrize(
    "obj",
    [
        {"type": "Polygon", "coordinates": [RING]},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [RING]}},
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [RING]}}],
        },
    ],
)
def test_geojson_zone_upload(obj):
    geometry, errors = zone_from_geojson(json.dumps(obj).encode(), CTX)
    assert errors == [] and geometry == {"type": "Polygon", "coordinates": [RING]}


@pytest.mark.parametrize(
    "data,code",
    [
        (b"not json", "file_wrong_type"),
        (json.dumps({"type": "Point", "coordinates": [0, 51]}).encode(), "zone_not_polygon"),
        (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "zone_not_polygon"),
        (json.dumps({"type": "Polygon", "coordinates": [RING[:-1]]}).encode(), "zone_not_closed"),
        (b" " * (3 * 1024 * 1024), "file_too_large"),
    ],
)
def test_bad_geojson_uploads(data, code):
    geometry, errors = zone_from_geojson(data, CTX)
    assert geometry is None and errors[0].code == code


def test_a_number_with_thousands_of_digits_is_a_field_error_not_an_exception():
    body = (
        '{"type": "Polygon", "coordinates": [[[' + "9" * 5000 + ", 1], [2, 2], [3, 3], [1, 1]]]}"
    ).encode()
    geometry, errors = zone_from_geojson(body, CTX)
    assert geometry is None and errors[0].code == "file_wrong_type"
