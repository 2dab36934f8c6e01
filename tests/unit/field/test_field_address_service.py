"""Issue 14: production puts an address service behind the geocoder interface (selected by a setting). Tested
against a real HTTP server on loopback, started here: its answer wins; its "unknown" is said; when it is down,
slow or answers nonsense the offline centroid is used, or the visit waits on an address check (nothing lost)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from openem.config import load_settings
from openem.field import geocode
from openem.field import queries as fq
from openem.field import service as fs
from openem.field.geocode import AddressService, CodePointOpen, Located, NotLocated

RELEASE = threading.Event()
SEEN: list[dict[str, list[str]]] = []


class _Places(BaseHTTPRequestHandler):
    """An OS Places-like postcode search: SW1A 1AA at the palace door, CF10 1AA answers 500, SW1A 2AA is not JSON, EC1A 1BB waits."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        q = parse_qs(urlparse(self.path).query)
        SEEN.append(q)
        pc = q.get("postcode", [""])[0]
        if pc == "CF10 1AA":
            self.send_response(500), self.end_headers()
            return
        if pc == "EC1A 1BB":
            RELEASE.wait(10)
        if pc == "SW1A 2AA":
            body = b"<html>maintenance</html>"
        elif pc == "SW1A 1AA":
            body = json.dumps(
                {"results": [{"DPA": {"POSTCODE": pc, "LAT": 51.50135, "LNG": -0.14189}}]}
            ).encode()
        else:
            body = json.dumps({"header": {"totalresults": 0}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def places() -> Iterator[str]:
    RELEASE.clear()
    SEEN.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Places)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/search/places/v1/postcode"
    RELEASE.set()
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture
def restore_geocoder() -> Iterator[None]:
    yield
    geocode.set_geocoder(CodePointOpen())


def test_the_service_answer_wins_and_its_unknown_is_said(places: str) -> None:
    g = AddressService(places, key="k-123")
    found = g.locate("sw1a1aa")
    assert found == Located("SW1A 1AA", 51.50135, -0.14189, "address service")
    assert SEEN[-1]["key"] == ["k-123"] and SEEN[-1]["output_srs"] == ["WGS84"]
    unknown = g.locate("ZZ99 9ZZ")
    assert isinstance(unknown, NotLocated) and unknown.reason == "UNKNOWN"
    assert "not known to the address service" in unknown.message
    bad = g.locate("../../etc/passwd")
    assert isinstance(bad, NotLocated) and bad.reason == "MALFORMED" and len(SEEN) == 2  # never sent


@pytest.mark.parametrize("postcode", ["CF10 1AA", "SW1A 2AA", "EC1A 1BB"])  # 500, not JSON, too slow
def test_a_failing_service_falls_back_to_the_offline_centroid(places: str, postcode: str) -> None:
    g = AddressService(places, timeout_s=0.5)
    found = g.locate(postcode)
    offline = CodePointOpen().locate(postcode)
    assert isinstance(found, Located) and isinstance(offline, Located)
    assert (found.lat, found.lon) == (offline.lat, offline.lon)
    assert found.source == "Code-Point Open (address service unavailable)" and g.failures == 1


def test_a_service_that_is_down_keeps_the_visit_on_address_check(
    restore_geocoder: None, sqlite_url: str
) -> None:
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    geocode.set_geocoder(AddressService(f"http://127.0.0.1:{port}/postcode", timeout_s=1.0))
    engine = sa.create_engine(sqlite_url)
    with Session(engine) as session:
        events: list[Any] = []
        uow = SimpleNamespace(session=session, add_event=events.append)
        for ref, pc in (("ORD-DOWN", "ZZ99 9ZZ"), ("ORD-UP", "SW1A 1AA")):
            fs.on_order_accepted({"order_ref": ref, "request_type": "NEW", "accepted_at": datetime(2026, 12, 1, tzinfo=UTC).isoformat(),
                                  "order": {"person_id": "P1", "addresses": [{"type": "PRIMARY", "postcode": pc}]}}, uow)  # fmt: skip
        down = fq.visit(session, "FIT-ORD-DOWN")
        assert down is not None and down["needs_address_check"] and down["address_check"] == "UNAVAILABLE"
        assert "could not be reached" in down["address_message"]
        up = fq.visit(session, "FIT-ORD-UP")  # the offline centroid stood in
        assert up is not None and not up["needs_address_check"] and up["lat"] is not None
        assert [e.topic for e in events] == ["field.AddressCheckNeeded", "field.AddressLocated"]
    engine.dispose()


def test_the_setting_selects_the_service(places: str, restore_geocoder: None) -> None:
    s = load_settings({"OPENEM_ADDRESS_SERVICE_URL": places, "OPENEM_ADDRESS_SERVICE_TIMEOUT_S": "2",
                       "OPENEM_SECRET_KEY": "x", "OPENEM_VAR_DIR": "/tmp/openem-geocode-test"})  # fmt: skip
    g = geocode.configure_geocoder(s.address_service_url, timeout_s=s.address_service_timeout_s)
    assert isinstance(g, AddressService) and geocode.geocoder() is g and g.timeout_s == 2.0
    assert isinstance(geocode.configure_geocoder(None), CodePointOpen)
    with pytest.raises(ValueError):
        AddressService("file:///etc/passwd")
