"""Evidence for one match: a map drawn on the server as SVG (no tiles: the crime circle, each position's accuracy
circle, the track with its pass labelled, entry and exit legs), and a PDF report through WeasyPrint with the
positions, their accuracy and the method. The PDF's SHA-256 is recorded when it is issued."""

from __future__ import annotations

import hashlib
import math
from html import escape
from typing import Any

from openem.crime.matching import ALGORITHM
from openem.crime.model import policy

SIZE = 480


def svg_map(lat0: float, lon0: float, trail: list[dict[str, Any]], label: str, title: str) -> str:
    """A square map centred on the crime, scaled to the trail (at least 3 x the radius across)."""
    radius = float(policy()["radius_m"])
    k = 111_195.0
    cos0 = math.cos(math.radians(lat0))

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon0) * k * cos0, (lat - lat0) * k

    pts = [(xy(p["lat"], p["lon"]), p) for p in trail]
    span = max([radius * 3] + [max(abs(x), abs(y)) * 2.2 for (x, y), _ in pts])
    span = min(span, 5000.0)
    scale = SIZE / span

    def px(x: float, y: float) -> tuple[float, float]:
        return SIZE / 2 + x * scale, SIZE / 2 - y * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="100%" role="img" '
        f'aria-labelledby="map-title" style="max-width:{SIZE}px;background:#f3f2f1">',
        f'<title id="map-title">{escape(title)}</title>',
        f'<circle cx="{SIZE / 2}" cy="{SIZE / 2}" r="{radius * scale:.1f}" fill="#d4351c" fill-opacity="0.12" '
        'stroke="#d4351c" stroke-width="2"/>',
        f'<circle cx="{SIZE / 2}" cy="{SIZE / 2}" r="3" fill="#d4351c"/>',
    ]
    for (x, y), p in pts:
        cx, cy = px(x, y)
        if p.get("near"):
            acc = float(p.get("accuracy_m") or 0) * scale
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{acc:.1f}" fill="#1d70b8" fill-opacity="0.10" '
                         'stroke="#1d70b8" stroke-width="0.5"/>')  # fmt: skip
    line = " ".join(f"{px(x, y)[0]:.1f},{px(x, y)[1]:.1f}" for (x, y), _ in pts)
    if line:
        parts.append(f'<polyline points="{line}" fill="none" stroke="#0b0c0c" stroke-width="1.5" '
                     'stroke-dasharray="4 3"/>')  # fmt: skip
    near = [(px(x, y), p) for (x, y), p in pts if p.get("near")]
    for (cx, cy), _ in near:
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="#1d70b8"/>')
    if near:
        (cx, cy), _ = near[0]
        parts.append(f'<text x="{cx + 6:.1f}" y="{cy - 6:.1f}" font-family="Arial, sans-serif" font-size="16" '
                     f'font-weight="bold" fill="#0b0c0c">{escape(label)}</text>')  # fmt: skip
    bar = 100 * scale
    parts.append(f'<line x1="10" y1="{SIZE - 14}" x2="{10 + bar:.1f}" y2="{SIZE - 14}" stroke="#0b0c0c" '
                 f'stroke-width="3"/><text x="10" y="{SIZE - 20}" font-family="Arial, sans-serif" '
                 'font-size="12" fill="#0b0c0c">100 m</text>')  # fmt: skip
    parts.append('<text x="' + str(SIZE - 20) + '" y="22" font-family="Arial, sans-serif" font-size="14" '
                 'font-weight="bold" fill="#0b0c0c">N</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


METHOD = (
    "Positions recorded by the wearer's GPS tag were compared with the crime's place and time window. A position "
    "counts as at the scene when its distance from the crime location is no more than {radius:.0f} m plus the "
    "position's own stated accuracy (1-sigma radius), and only positions with an accuracy of {max_acc:.0f} m or "
    "better are used. Consecutive positions at the scene form a pass; its entry and exit legs are the bearings "
    "from the position before and to the position after. A gap of more than {gap:.0f} s between positions is "
    "reported as such: no statement is made about where the wearer was during a gap. Matching algorithm "
    "{algorithm}, policy {policy}."
)


def method_text() -> str:
    pol = policy()
    return METHOD.format(radius=float(pol["radius_m"]), max_acc=float(pol["max_accuracy_m"]),
                         gap=float(pol["max_gap_s"]), algorithm=ALGORITHM, policy=pol["version"])  # fmt: skip


def pdf(html: str) -> tuple[bytes, str]:
    """(the PDF, its SHA-256) from the report's HTML; no network fetch (every asset is inline)."""
    from weasyprint import HTML

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"evidence reports fetch nothing: {url}")

    data = HTML(string=html, url_fetcher=no_fetch).write_pdf()
    assert isinstance(data, bytes)
    return data, hashlib.sha256(data).hexdigest()


DISCLAIMER = (
    "GPS positions are estimates with the stated accuracy; a position at the scene shows the device was near, not "
    "what its wearer did. Gaps between positions are not filled in. This report is generated from the records "
    "held at the time of issue; its SHA-256 digest is recorded in the audit log."
)
STATEMENT_HEADING = "Witness statement (Criminal Justice Act 1967, s.9; Magistrates' Courts Act 1980, s.5B)"
STATEMENT_DECLARATION = (
    "This statement, consisting of ___ page(s) each signed by me, is true to the best of my knowledge and belief "
    "and I make it knowing that, if it is tendered in evidence, I shall be liable to prosecution if I have wilfully "
    "stated in it anything which I know to be false, or do not believe to be true."
)
DRAFT_NOTE = (
    "Working copy for the hub: not for court. The exhibit with its Criminal Justice Act 1967 s.9 witness "
    "statement is produced by a hub manager."
)


def map_png(svg: str) -> bytes:
    """The evidence map (the same SVG the page and the PDF show) as a PNG for the DOCX report."""
    import cairosvg

    data = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=SIZE * 2, output_height=SIZE * 2)
    assert isinstance(data, bytes)
    return data


def docx(ctx: dict[str, Any], *, statement: bool) -> tuple[bytes, str]:
    """(the DOCX report, its SHA-256): the PDF's content (overview, map, method, positions, exhibit references,
    disclaimer) and, when a hub manager produces it, the s.9 statement for them to sign."""
    import io

    from docx import Document
    from docx.shared import Cm, Pt

    from openem.web.rendering import london_time

    m, v, c, exhibit = ctx["m"], ctx["v"], ctx["c"], ctx["exhibit"]
    detail = m.detail or {}
    doc = Document()
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = f"Evidence report {exhibit}"
    doc.core_properties.author = str(ctx["issued_by"])
    doc.add_heading("Acquisitive crime matching: evidence report", level=1)
    doc.add_paragraph(f"Exhibit {exhibit} · issued {london_time(ctx['issued_at'], seconds=True)} by "
                      f"{ctx['issued_by']} · purpose recorded: {ctx['why']}")  # fmt: skip
    if not statement:
        doc.add_paragraph(DRAFT_NOTE)
    doc.add_heading("Overview", level=2)
    where = f"{v.lat:.6f}, {v.lon:.6f}"
    if v.easting is not None:
        where += f" (OSGB36 E {int(v.easting)}, N {int(v.northing)} as reported)"
    overview = [
        ("Crime", f"{c.reference} ({ctx['type']}), force {c.force}, version {v.version}"),
        ("Crime window", f"{london_time(v.date_from)} to {london_time(v.date_to)} "
                         f"(UTC {ctx['iso'](v.date_from)} to {ctx['iso'](v.date_to)})"),
        ("Crime location", where),
        ("Wearer, device", f"{m.person_id}, {m.device_id}"),
        (f"Pass {m.pass_label}", f"{london_time(m.first_seen, seconds=True)} to "
                                 f"{london_time(m.last_seen, seconds=True)}; closest {m.closest_m:.0f} m (accuracy "
                                 f"{detail.get('closest_accuracy_m')} m); entry {detail.get('entry') or 'not known'}, "
                                 f"exit {detail.get('exit') or 'not known'}; confidence {m.confidence}"),
    ]  # fmt: skip
    table = doc.add_table(rows=0, cols=2)
    for k, val in overview:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = k, val
    doc.add_heading("Map", level=2)
    doc.add_picture(io.BytesIO(map_png(ctx["svg"])), width=Cm(12))
    doc.add_paragraph(f"Map of pass {m.pass_label} near crime {c.reference}: the crime circle "
                      f"({float(ctx['radius']):.0f} m), each position at the scene with its accuracy circle, the "
                      "track dashed, a 100 m bar; north is up.")  # fmt: skip
    doc.add_heading("Method", level=2)
    doc.add_paragraph(str(ctx["method"]))
    doc.add_heading("Positions", level=2)
    head = [
        "Time (UK)",
        "UTC",
        "Latitude",
        "Longitude",
        "Accuracy",
        "Speed",
        "Heading",
        "From crime",
        "At scene",
    ]
    pos = doc.add_table(rows=1, cols=len(head))
    for cell, h in zip(pos.rows[0].cells, head, strict=True):
        cell.text = h
    for p in ctx["trail"]:
        cells = pos.add_row().cells
        vals = [london_time(p["time"], seconds=True), str(p["time"]), f"{float(p['lat']):.6f}",
                f"{float(p['lon']):.6f}", f"{p.get('accuracy_m')} m",
                "—" if p.get("speed_mps") is None else str(p["speed_mps"]),
                "—" if p.get("heading_deg") is None else str(p["heading_deg"]),
                f"{float(p.get('distance_m') or 0):.0f} m", "yes" if p.get("near") else "no"]  # fmt: skip
        for cell, val in zip(cells, vals, strict=True):
            cell.text = val
    doc.add_heading("Exhibit references", level=2)
    doc.add_paragraph(f"This report: exhibit {exhibit}. Crime {c.reference} version {v.version} of batch "
                      f"{v.batch_key}; match {m.id}, pass {m.pass_label}; device {m.device_id}.")  # fmt: skip
    doc.add_heading("Disclaimer", level=2)
    doc.add_paragraph(DISCLAIMER)
    if statement:
        doc.add_page_break()  # type: ignore[no-untyped-call]
        doc.add_heading(STATEMENT_HEADING, level=2)
        doc.add_paragraph(f"Statement of: {ctx.get('signer') or ctx['issued_by']}    Occupation: hub manager, electronic monitoring "
                          "crime-matching hub")  # fmt: skip
        doc.add_paragraph(STATEMENT_DECLARATION)
        doc.add_paragraph(f"I produce as exhibit {exhibit} the report above, generated by the crime-matching "
                          f"service from the positions recorded by device {m.device_id} between "
                          f"{london_time(v.date_from)} and {london_time(v.date_to)}, by the method described. The "
                          "report's SHA-256 digest is recorded in the service's audit log at the time of issue.")  # fmt: skip
        doc.add_paragraph("Signature: ______________________________    Date: ________________")
    buf = io.BytesIO()
    doc.save(buf)
    data = buf.getvalue()
    return data, hashlib.sha256(data).hexdigest()
