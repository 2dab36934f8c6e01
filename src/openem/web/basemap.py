"""The base map: a PMTiles extract (OPENEM_BASEMAP_PMTILES) served from this origin at /basemap.pmtiles, so a
deployment draws its own maps with no tile server and no outside address (the CSP allows only 'self').

The browser's PMTiles reader asks for byte ranges (the header, directories, then each tile); Starlette's
FileResponse answers them with 206 and Content-Range. The file is the same for every user and holds no personal
data, but only signed-in users are served it, as with every other page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from openem.core.errors import NotFound
from openem.web.deps import Caller, signed_in

router = APIRouter(include_in_schema=False)
PATH = "/basemap.pmtiles"


def map_config(settings: Any) -> dict[str, str]:
    """What every map page needs to draw its base layer: the extract's address or a tile URL template."""
    path = getattr(settings, "basemap_pmtiles", None)
    return {"basemap": PATH if path else "", "tiles": "" if path else (settings.tile_url or "")}


@router.api_route(PATH, methods=["GET", "HEAD"])
def basemap(request: Request, caller: Caller = Depends(signed_in)) -> Response:
    path = request.app.state.settings.basemap_pmtiles
    if path is None or not path.is_file():
        raise NotFound("No base map is configured")
    return FileResponse(
        path, media_type="application/vnd.pmtiles", headers={"Cache-Control": "private, max-age=86400"}
    )
