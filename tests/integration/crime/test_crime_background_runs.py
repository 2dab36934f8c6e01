"""Matching off the request: with the server's runner going, an upload answers at once with the run queued, the
batch page says matching is under way (and polls), and the run is carried out in the background: status, trigger
and timings recorded, the wearer at the scene found. A manual re-run goes the same way."""

from __future__ import annotations

import re
import time

import pytest
from tests.crime_worlds import SCENE, crime_line
from tests.integration.crime.test_crime_batches import FROM, PURPOSE, TO, trails  # noqa: F401


@pytest.fixture
def runner(trails):  # noqa: F811  (the fixture imported above)
    r = trails.app.state.crime_runner
    r.start(interval_s=0.2)
    yield r
    r.stop()


def wait_for_run(client, key: str, want: set[str], deadline_s: float = 60.0) -> dict:
    """Poll the batch's API until its latest run reaches one of `want` (or give up at the deadline)."""
    end = time.monotonic() + deadline_s
    while True:
        run = client.get(f"/api/crime/batches/{key}").json()["run"]
        if run and run["status"] in want:
            return run
        assert time.monotonic() < end, f"run still {run and run['status']} after {deadline_s} s"
        time.sleep(0.05)  # a poll interval, not a wait for an outcome


def test_an_upload_queues_the_run_and_the_background_runner_matches_it(trails):  # noqa: F811
    import threading

    from openem.crime.runner import CrimeRunner

    gate = threading.Event()

    class Held(CrimeRunner):  # going, but holding its first step until the test has seen the run queued
        def step(self) -> None:
            gate.wait(60)
            super().step()

    held = Held(trails.db)
    trails.app.state.crime_runner = held
    held.start(interval_s=0.2)
    c = trails.signed_in("demo-crime-matching-caseworker")
    page = c.get("/crime")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    resp = c.post("/api/crime/batches", data={"csrf_token": token},
                  files={"file": ("b.csv", (crime_line("20WM/90", SCENE, FROM, TO) + "\n").encode(), "text/csv")})  # fmt: skip
    assert resp.status_code == 201
    key = resp.json()["batch"]
    assert c.get(f"/api/crime/batches/{key}").json()["run"]["status"] == "queued"
    batch_page = c.get(f"/crime/batches/{key}")
    assert f'data-crime-run="{key}"' in batch_page.text and "/static/crime/run.js" in batch_page.text
    assert "matching runs in the background" in batch_page.text
    gate.set()
    try:
        run = wait_for_run(c, key, {"done", "failed"})
    finally:
        held.stop()
    assert run["status"] == "done" and run["trigger"] == "automatic" and run["matches"] == 1
    assert {"total_ms", "queued_ms"} <= set(run["timings"]) and run["finished_at"]
    shown = c.get(f"/crime/batches/{key}/matches", params=PURPOSE)
    assert "PER-CRM-AT" in shown.text and "PER-CRM-AWAY" not in shown.text
    assert "data-crime-run" not in c.get(f"/crime/batches/{key}").text  # finished: the page stops polling


def test_a_manual_rerun_is_queued_and_done_in_the_background(trails, runner):  # noqa: F811
    c = trails.signed_in("demo-crime-matching-manager")
    page = c.get("/crime")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    resp = c.post("/api/crime/batches", data={"csrf_token": token},
                  files={"file": ("b.csv", (crime_line("20WM/91", SCENE, FROM, TO) + "\n").encode(), "text/csv")})  # fmt: skip
    key = resp.json()["batch"]
    first = wait_for_run(c, key, {"done", "failed"})
    batch_page = c.get(f"/crime/batches/{key}")
    token = re.search(r'name="csrf_token" value="([^"]*)"', batch_page.text).group(1)
    assert c.post(f"/crime/batches/{key}/match", data={"csrf_token": token}).status_code == 200
    run = wait_for_run(c, key, {"done", "failed"})
    assert run["run"] != first["run"] and run["trigger"] == "manual" and run["status"] == "done"
    assert run["matches"] == 1
