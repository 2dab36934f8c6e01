"""The evidence report as Word (DOCX) with the PDF's content (overview, a map as an image, the positions, exhibit
references, disclaimer), and who may produce the exhibit with its s.9 witness statement: the hub manager only.
A caseworker and a police officer get the hub's working copy without a statement; other roles see nothing."""

from __future__ import annotations

import hashlib
import io
import re

from docx import Document
from pypdf import PdfReader
from tests.crime_worlds import SCENE, crime_line
from tests.integration.crime.test_crime_batches import FROM, PURPOSE, TO, audits, trails, upload  # noqa: F401

from openem.auth.roles import PERMISSIONS, Role

S9 = "Criminal Justice Act 1967, s.9"


def _match_id(client) -> str:
    page = upload(client, crime_line("20WM/77", SCENE, FROM, TO) + "\n")
    key = re.search(r"/crime/batches/(CB-[^/?]+)", str(page.url)).group(1)
    shown = client.get(f"/crime/batches/{key}/matches", params=PURPOSE)
    return re.search(r"/crime/matches/(\d+)\?", shown.text).group(1)


def _docx_text(data: bytes) -> tuple[str, Document]:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        parts.extend(cell.text for row in t.rows for cell in row.cells)
    return "\n".join(parts), doc


def test_the_hub_manager_produces_the_word_report_with_the_map_positions_and_the_s9_statement(trails):  # noqa: F811  (the fixture imported above)
    c = trails.signed_in("demo-crime-matching-manager")
    match_id = _match_id(c)
    resp = c.get(f"/crime/matches/{match_id}/evidence.docx", params=PURPOSE)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert hashlib.sha256(resp.content).hexdigest() == resp.headers["x-evidence-sha256"]
    text, doc = _docx_text(resp.content)
    for heading in ("Overview", "Map", "Method", "Positions", "Exhibit references", "Disclaimer"):
        assert heading in [p.text for p in doc.paragraphs], heading
    assert "20WM/77" in text and "PER-CRM-AT" in text and "GPS-CRM0" in text and "Pass A1" in text
    exhibit = re.search(r"evidence-(EV-[^.]+)\.docx", resp.headers["content-disposition"]).group(1)
    assert f"I produce as exhibit {exhibit}" in text and S9 in text
    assert "Statement of: demo-crime-matching-manager" in text and "Working copy" not in text
    # the map is a picture (PNG) in the document
    pngs = [r for r in doc.part.related_parts.values() if r.content_type == "image/png"]
    assert len(pngs) == 1 and pngs[0].blob.startswith(b"\x89PNG")
    # the positions table: a header and one row per position of the trail, with the ones at the scene marked
    positions = next(t for t in doc.tables if t.rows[0].cells[0].text == "Time (UK)")
    at_scene = [r.cells[8].text for r in positions.rows[1:]]
    assert len(at_scene) > 4 and at_scene.count("yes") == 4
    [issued] = audits(trails, "crime:evidence:export")
    assert issued.details["format"] == "docx" and issued.details["s9_statement"] is True
    assert issued.details["sha256"] == resp.headers["x-evidence-sha256"]


def test_a_caseworker_gets_the_working_copy_without_the_statement_in_either_format(trails):  # noqa: F811  (the fixture imported above)
    c = trails.signed_in("demo-crime-matching-caseworker")
    match_id = _match_id(c)
    text, _ = _docx_text(c.get(f"/crime/matches/{match_id}/evidence.docx", params=PURPOSE).content)
    assert "Working copy for the hub: not for court" in text and S9 not in text.replace(
        "1967 s.9 witness", ""
    )
    assert "I produce as exhibit" not in text and "PER-CRM-AT" in text
    pdf = c.get(f"/crime/matches/{match_id}/evidence.pdf", params=PURPOSE)
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Working copy" in pdf_text and "I produce as exhibit" not in pdf_text
    assert [a.details["s9_statement"] for a in audits(trails, "crime:evidence:export")] == [False, False]
    m = trails.signed_in("demo-crime-matching-manager")
    pdf = m.get(f"/crime/matches/{match_id}/evidence.pdf", params=PURPOSE)
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "I produce as exhibit" in pdf_text and "Working copy" not in pdf_text


def test_only_the_hub_manager_role_may_sign_and_only_hub_roles_may_run_matching():
    signers = {r for r, perms in PERMISSIONS.items() if "crime_matching:approve" in perms}
    assert signers == {Role.CRIME_MATCHING_MANAGER}
    runners = {r for r, perms in PERMISSIONS.items() if "crime_matching:run" in perms}
    assert runners == {Role.CRIME_MATCHING_CASEWORKER, Role.CRIME_MATCHING_MANAGER}
    # the caseworker holds nothing beyond running matches and reading locations
    assert PERMISSIONS[Role.CRIME_MATCHING_CASEWORKER] == {"crime_matching:run", "location:read"}


def test_a_monitoring_centre_operator_cannot_read_or_export_evidence(trails):  # noqa: F811  (the fixture imported above)
    match_id = _match_id(trails.signed_in("demo-crime-matching-caseworker"))
    op = trails.signed_in("demo-mc-operator")
    for suffix in ("", "/evidence.pdf", "/evidence.docx"):
        resp = op.get(f"/crime/matches/{match_id}{suffix}", params=PURPOSE)
        assert resp.status_code in (403, 404) and "PER-CRM-AT" not in resp.text
    assert audits(trails, "crime:evidence:export") == []
