"""The shape of the house: every capability's web package is served, and its pages and files are found."""

from pathlib import Path

import openem
from openem.server import WEB_MODULES

SRC = Path(openem.__file__).parent


def test_the_server_includes_every_capability_web_package_on_disk():
    on_disk = {f"openem.{p.parent.parent.name}.web" for p in SRC.glob("*/web/__init__.py")}
    assert on_disk, "no capability web package found"
    missing = on_disk - set(WEB_MODULES)
    assert not missing, f"add these to openem.server.WEB_MODULES: {sorted(missing)}"


def test_capability_pages_and_static_files_are_served(world):
    client = world.signed_in("demo-order-creator-court")
    assert client.get("/orders/new").status_code == 200  # a template under orders/web/templates
    for path in ("/static/orders/orders.js", "/static/alerts/live.js", "/static/openem.css"):
        r = client.get(path)
        assert r.status_code == 200 and r.content, path
