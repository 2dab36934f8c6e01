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
