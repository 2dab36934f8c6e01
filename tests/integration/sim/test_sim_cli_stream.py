"""`openem sim generate` writes the world-format folder; `openem sim stream` replays it over HTTP."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from openem.cli import main
from openem.core.time import parse_instant
from openem.sim import iter_wire_messages, write_world
from openem.sim.stream import stream_world


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    assert (
        main(
            ["sim", "generate", "--wearers", "40", "--days", "1", "--seed", "3", "--out", str(out), "--jsonl"]
        )
        == 0
    )
    return out


def test_generate_writes_every_file_of_the_world_format(
    world_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "manifest.json",
        "people.parquet",
        "orders.jsonl",
        "devices.parquet",
        "activations.parquet",
        "truth.parquet",
        "field.parquet",
        "telemetry.jsonl",
    ):
        assert (world_dir / name).exists(), name
    manifest = json.loads((world_dir / "manifest.json").read_text())
    telemetry = pd.read_parquet(world_dir / "telemetry")
    assert manifest["counts"]["telemetry"] == len(telemetry)
    orders = [json.loads(line) for line in (world_dir / "orders.jsonl").read_text().splitlines()]
    assert len(orders) == manifest["counts"]["orders"] and all(
        "defects" in o and "person_id" in o for o in orders
    )
    lines = (world_dir / "telemetry.jsonl").read_text().splitlines()
    assert len(lines) == len(telemetry)


def test_wire_messages_come_in_receive_order_in_the_envelope(world_dir: Path) -> None:
    msgs = list(iter_wire_messages(world_dir))
    assert len(msgs) == json.loads((world_dir / "manifest.json").read_text())["counts"]["telemetry"]
    times = [m["receive_time"] for m in msgs]
    assert times == sorted(times)
    for m in msgs[:2000]:
        assert set(m) == {"v", "device_id", "seq", "type", "device_time", "receive_time", "payload"}
        assert parse_instant(m["device_time"]) <= parse_instant(m["receive_time"])
        if m["type"] == "gps":
            assert {"lat", "lon", "accuracy_m"} <= set(m["payload"])
        if m["type"] == "tamper":
            assert set(m["payload"]) == {"kind", "state"}


def test_the_same_seed_writes_the_same_world(tmp_path: Path) -> None:
    a = write_world(tmp_path / "a", 15, 1, 9)
    b = write_world(tmp_path / "b", 15, 1, 9)
    assert a == b
    assert (tmp_path / "a" / "orders.jsonl").read_bytes() == (tmp_path / "b" / "orders.jsonl").read_bytes()


class _Ingest(BaseHTTPRequestHandler):
    batches: list[list[dict]] = []
    tokens: list[str] = []
    fail_first = 1

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        if self.path != "/api/telemetry/batch":
            self.send_response(404)
            self.end_headers()
            return
        type(self).batches.append(json.loads(body))
        type(self).tokens.append(self.headers.get("Authorization", ""))
        self.send_response(202)
        self.end_headers()
        self.wfile.write(b'{"accepted": true}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def ingest_server():
    _Ingest.batches, _Ingest.tokens, _Ingest.fail_first = [], [], 1
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_stream_posts_batches_in_receive_order_and_retries_a_5xx(world_dir: Path, ingest_server: str) -> None:
    sent = stream_world(world_dir, ingest_server, "T0KEN", speed=0, limit=1234, sleep=lambda s: None)
    assert sent == 1234
    got = [m for b in _Ingest.batches for m in b]
    assert len(got) == 1234 and max(len(b) for b in _Ingest.batches) <= 500
    assert set(_Ingest.tokens) == {"Bearer T0KEN"}
    expected = [m for _, m in zip(range(1234), iter_wire_messages(world_dir), strict=False)]
    assert got == expected


def test_stream_paces_to_simulated_time(world_dir: Path, ingest_server: str) -> None:
    waits: list[float] = []
    now = [0.0]

    def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    _Ingest.fail_first = 0
    sent = stream_world(
        world_dir, ingest_server, "t", speed=3600, limit=3000, sleep=fake_sleep, clock=lambda: now[0]
    )
    msgs = [m for _, m in zip(range(3000), iter_wire_messages(world_dir), strict=False)]
    span = (parse_instant(msgs[-1]["receive_time"]) - parse_instant(msgs[0]["receive_time"])).total_seconds()
    assert sent == 3000
    assert span > 3600
    assert sum(waits) == pytest.approx(span / 3600, rel=0.02)


def test_stream_cli(world_dir: Path, ingest_server: str) -> None:
    _Ingest.fail_first = 0
    assert (
        main(
            [
                "sim",
                "stream",
                "--world",
                str(world_dir),
                "--url",
                ingest_server,
                "--token",
                "x",
                "--speed",
                "0",
                "--limit",
                "600",
            ]
        )
        == 0
    )
    assert sum(len(b) for b in _Ingest.batches) == 600


def test_stream_cli_reports_a_refused_batch(
    world_dir: Path, ingest_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _Ingest.fail_first = 0
    code = main(
        [
            "sim",
            "stream",
            "--world",
            str(world_dir),
            "--url",
            ingest_server + "/nope",
            "--speed",
            "0",
            "--limit",
            "10",
        ]
    )
    assert code == 1
    assert "streaming stopped" in capsys.readouterr().err
