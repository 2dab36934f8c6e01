"""Uploaded documents (licence, court order, grant of bail, photo ID, zone map) and GeoJSON zone uploads:
type sniffed from the bytes (never trusted from the file name or the browser), size limits, field errors.
Pure functions over bytes; storage belongs to the web/store layers."""

from __future__ import annotations

import json
from typing import Any

from openem.orders.rules.base import Context, ValidationError
from openem.orders.rules.zones import check_zone_geometry

#: document type -> (allowed sniffed kinds, maximum bytes)
DOCUMENT_TYPES: dict[str, tuple[frozenset[str], int]] = {
    "LICENCE": (frozenset({"pdf"}), 10 * 1024 * 1024),
    "COURT_ORDER": (frozenset({"pdf"}), 10 * 1024 * 1024),
    "GRANT_OF_BAIL": (frozenset({"pdf"}), 10 * 1024 * 1024),
    "PHOTO_ID": (frozenset({"jpeg", "png"}), 5 * 1024 * 1024),
    "ZONE_MAP": (frozenset({"pdf", "jpeg", "png"}), 10 * 1024 * 1024),
}
MAX_GEOJSON_BYTES = 2 * 1024 * 1024


def sniff(data: bytes) -> str | None:
    """The file kind from its first bytes: "pdf", "png", "jpeg", or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def check_document(document_type: str, data: bytes, field: str = "document") -> list[ValidationError]:
    """Errors for one uploaded document of `document_type` (keys of DOCUMENT_TYPES)."""
    if document_type not in DOCUMENT_TYPES:
        return [ValidationError("unknown_code", f"{field}.type", "Select the type of document")]
    kinds, limit = DOCUMENT_TYPES[document_type]
    if not data:
        return [ValidationError("file_empty", field, "The selected file is empty")]
    if len(data) > limit:
        return [
            ValidationError(
                "file_too_large", field, f"The selected file must be smaller than {limit // (1024 * 1024)} MB"
            )
        ]
    kind = sniff(data)
    if kind not in kinds:
        names = " or ".join(sorted(k.upper() for k in kinds))
        return [ValidationError("file_wrong_type", field, f"The selected file must be a {names}")]
    return []


def zone_from_geojson(
    data: bytes, ctx: Context, field: str = "geometry"
) -> tuple[dict[str, Any] | None, list[ValidationError]]:
    """A zone geometry from an uploaded GeoJSON file (a Polygon, or a Feature / FeatureCollection holding
    exactly one Polygon), checked like a drawn zone."""
    if len(data) > MAX_GEOJSON_BYTES:
        return None, [ValidationError("file_too_large", field, "The GeoJSON file must be smaller than 2 MB")]
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except (
        UnicodeDecodeError,
        ValueError,
        RecursionError,
    ):  # ValueError: JSONDecodeError, and numbers over the int digit limit
        return None, [ValidationError("file_wrong_type", field, "The selected file must be a GeoJSON file")]
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or len(features) != 1:
            return None, [
                ValidationError("zone_not_polygon", field, "The GeoJSON file must hold exactly one polygon")
            ]
        obj = features[0]
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    if not isinstance(obj, dict) or obj.get("type") != "Polygon":
        return None, [
            ValidationError("zone_not_polygon", field, "The GeoJSON file must hold exactly one polygon")
        ]
    geometry = {"type": "Polygon", "coordinates": obj.get("coordinates")}
    # a zone's plausible size is judged with the order (its `size_override_reason` may accept it)
    errors = check_zone_geometry(geometry, field, ctx, check_plausible=False)
    return (None if errors else geometry), errors


#: the document an order must have when submitted, by notifying organisation: a licence from the prison or
#: the Youth Custody Service (release on licence), the court's order from a court (CEMO: a LICENCE document on
#: an order, OrderVersion.requiredDocuments; openem asks each organisation for the paper it issues). Probation
#: and the Home Office issue no paper that CEMO asks for.
REQUIRED_DOCUMENTS: dict[str, str] = {
    "PRISON": "LICENCE",
    "YOUTH_CUSTODY_SERVICE": "LICENCE",
    "CROWN_COURT": "COURT_ORDER",
    "MAGISTRATES_COURT": "COURT_ORDER",
    "FAMILY_COURT": "COURT_ORDER",
    "CIVIL_COUNTY_COURT": "COURT_ORDER",
    "YOUTH_COURT": "COURT_ORDER",
    "MILITARY_COURT": "COURT_ORDER",
    "SCOTTISH_COURT": "COURT_ORDER",
}
_DOCUMENT_WORDS = {"LICENCE": "the licence", "COURT_ORDER": "the court order"}


def required_document(doc: Any) -> str | None:
    """The type of document the order's notifying organisation issues and must attach, if any."""
    parties = doc.get("interested_parties") if isinstance(doc, dict) else None
    organisation = parties.get("notifying_organisation") if isinstance(parties, dict) else None
    return REQUIRED_DOCUMENTS.get(organisation) if isinstance(organisation, str) else None


def missing_documents(doc: Any, uploaded_types: set[str]) -> list[ValidationError]:
    """`required_document` errors at submit: the document the notifying organisation must attach, missing.
    A variation keeps the documents of the order it varies (the caller passes every type on the order)."""
    needed = required_document(doc)
    if needed is None or needed in uploaded_types:
        return []
    return [
        ValidationError(
            "required_document",
            "documents",
            f"Upload {_DOCUMENT_WORDS[needed]}: an order from this organisation needs {_DOCUMENT_WORDS[needed]}",
        )
    ]
