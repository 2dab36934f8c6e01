"""A local base map: the PMTiles file named by OPENEM_BASEMAP_PMTILES is served from this origin with HTTP
range requests (as the browser's PMTiles reader asks for it), and the map pages load the vector renderer only
when a base map is configured."""

import re
from datetime import UTC, datetime

import pytest
from tests.conftest import make_settings

from openem.orders.samples import sample_order
from openem.platform_cli import seed_demo_users
from openem.server import create_app


@pytest.fixture
def extract(tmp_path):
    # not a real map: what is tested is the range serving, so any bytes will do
    path = tmp_path / "extract.pmtiles"
    path.write_bytes(b"PMTiles" + bytes(range(256)) * 40)
    return path


def world_with(tmp_path, db, db_url, **env):
    from tests.conftest import World

    created = seed_demo_users(db, one_off=False)
    app = create_app(make_settings(tmp_path, db_url, **env), db, start_dispatcher=False)
    return World(app, db, {u: p for u, _, p in created})


def test_the_extract_is_served_in_byte_ranges(tmp_path, db, db_url, extract):
    world = world_with(tmp_path, db, db_url, OPENEM_BASEMAP_PMTILES=extract)
    c = world.signed_in("demo-order-creator-court")
    size = extract.stat().st_size
    head = c.get("/basemap.pmtiles", headers={"Range": "bytes=0-126"})
    assert head.status_code == 206
    assert head.headers["content-range"] == f"bytes 0-126/{size}"
    assert head.content == extract.read_bytes()[:127] and head.content.startswith(b"PMTiles")
    tail = c.get("/basemap.pmtiles", headers={"Range": "bytes=1000-1099"})
    assert tail.status_code == 206 and tail.content == extract.read_bytes()[1000:1100]
    assert c.get("/basemap.pmtiles", headers={"Range": f"bytes={size + 10}-"}).status_code == 416
    whole = c.get("/basemap.pmtiles")
    assert (
        whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes" and len(whole.content) == size
    )
    assert world.client().get("/basemap.pmtiles", follow_redirects=False).status_code in (303, 401)


def test_no_extract_configured_answers_404(world):
    r = world.signed_in("demo-order-creator-court").get("/basemap.pmtiles")
    assert r.status_code == 404


def zones_page(world) -> str:
    c = world.signed_in("demo-order-creator-court")
    token = re.search(r'name="csrf_token" value="([^"]*)"', c.get("/orders").text).group(1)
    r = c.post("/api/orders", json=sample_order(datetime.now(UTC)), headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    page = c.get(f"/orders/{r.json()['ref']}/zones")
    assert page.status_code == 200
    return page.text


def test_map_pages_load_the_vector_renderer_only_when_a_base_map_is_configured(tmp_path, db, db_url, extract):
    plain = zones_page(world_with(tmp_path, db, db_url))
    assert "/static/openem-map.js" in plain
    assert "protomaps-leaflet" not in plain and "pmtiles.js" not in plain
    assert 'data-basemap=""' in plain


def test_with_an_extract_the_map_pages_draw_it(tmp_path, db, db_url, extract):
    page = zones_page(world_with(tmp_path, db, db_url, OPENEM_BASEMAP_PMTILES=extract))
    assert '<script src="/static/vendor/protomaps-leaflet/protomaps-leaflet.js"></script>' in page
    assert '<script src="/static/vendor/pmtiles/pmtiles.js"></script>' in page
    assert 'data-basemap="/basemap.pmtiles"' in page


def test_a_tile_url_still_works_without_an_extract(tmp_path, db, db_url):
    page = zones_page(world_with(tmp_path, db, db_url, OPENEM_TILE_URL="/tiles/{z}/{x}/{y}.png"))
    assert 'data-tiles="/tiles/{z}/{x}/{y}.png"' in page and "protomaps-leaflet" not in page


def test_the_extract_may_be_cached_by_the_browser_unlike_pages(tmp_path, db, db_url, extract):
    c = world_with(tmp_path, db, db_url, OPENEM_BASEMAP_PMTILES=extract).signed_in("demo-order-creator-court")
    r = c.get("/basemap.pmtiles", headers={"Range": "bytes=0-15"})
    assert r.status_code == 206 and r.headers["cache-control"] == "private, max-age=86400"
    assert c.get("/admin/users").headers["cache-control"] == "no-store"
