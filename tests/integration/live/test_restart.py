"""A restart of the in-server engine, at any instant, clean or not, gives exactly the alerts of a run without
one (docs/decisions/0017): the same simulated day sent with and without a restart, on SQLite and PostgreSQL.
(A real `openem serve` killed with SIGKILL or stopped with SIGTERM: test_restart_serve.py.)"""

import collections

import pytest
from tests.integration.live.day import Stores, batches, published

from openem.live import LiveMonitor
from openem.telemetry.ingest import ingest_batch

NEVER = 1e9  # checkpoints only where a scenario asks for one


@pytest.fixture
def stores(db_url, tmp_path):
    s = Stores(db_url, tmp_path)
    yield s
    s.close()


def store(db, raw, rx):
    with db.uow() as uow:
        return ingest_batch(uow.session, raw, source="test", received_at=rx)


def send_day(db, restart_at=None, checkpoint_at=None, how=None):
    """Send the day; at batch `restart_at` the server goes away `how` and a new one starts on the same store."""
    live = LiveMonitor(db, checkpoint_every_s=NEVER)
    live.load()
    for i, (raw, rx) in enumerate(batches()):
        if i == checkpoint_at:
            with live.lock:
                live.checkpoint()
        if i == restart_at:
            if how == "clean":
                live.stop()  # a clean stop writes a checkpoint
            elif how == "stored, not processed":
                store(
                    db, raw, rx
                )  # committed, then the process died before the engine saw it (nor the gateway
                # its acknowledgement: it sends the batch again below, and every message is a duplicate)
            # "killed": the engine's memory is simply gone
            live = LiveMonitor(db, checkpoint_every_s=NEVER)
            live.load()
        live.on_ingested(store(db, raw, rx))
    return published(db)


SCENARIOS = [  # (restart at batch, last checkpoint at batch, how)
    (5, None, "clean"),
    (14, None, "clean"),
    (9, 4, "killed"),
    (12, None, "killed"),  # before any checkpoint: everything replayed from the store
    (17, 11, "stored, not processed"),
    (3, 3, "stored, not processed"),
]


def test_a_restart_at_any_instant_gives_the_alerts_of_a_run_without_one(stores):
    db, _, _ = stores.new()
    expected = send_day(db)
    kinds = collections.Counter(expected.values())
    assert len(expected) > 100 and kinds["curfew_late_return"] >= 1, kinds
    assert len(batches()) > max(s[0] for s in SCENARIOS)
    for restart_at, checkpoint_at, how in SCENARIOS:
        db, _, _ = stores.new()
        got = send_day(db, restart_at, checkpoint_at, how)
        lost = collections.Counter(expected[i] for i in set(expected) - set(got))
        extra = collections.Counter(got[i] for i in set(got) - set(expected))
        assert not lost and not extra, (restart_at, checkpoint_at, how, lost, extra)


def test_a_second_start_on_a_checkpoint_raises_nothing_again(stores):
    db, _, _ = stores.new()
    live = LiveMonitor(db, checkpoint_every_s=0)  # a checkpoint after every batch
    live.load()
    for raw, rx in batches()[:10]:
        live.on_ingested(store(db, raw, rx))
    before = live.alerts
    again = LiveMonitor(db)
    again.load()
    assert again.alerts == 0 and before > 0
    assert again.engine.raised == live.engine.raised and again.position == live.position


@pytest.mark.parametrize("full_every", [3, 40])
def test_a_restart_from_incremental_checkpoints_gives_the_alerts_of_a_run_without_one(
    stores, monkeypatch, full_every
):
    """Checkpoints after every batch: the first whole, then only what changed (decision 0033), a whole one again
    every `full_every`; killed after batch 13, the new server restores the whole one and the deltas after it."""
    monkeypatch.setenv("OPENEM_ENGINE_CHECKPOINT_DELTAS", str(full_every))
    db, _, _ = stores.new()
    expected = send_day(db)
    db, _, _ = stores.new()
    live = LiveMonitor(db, checkpoint_every_s=0)
    live.load()
    day = batches()
    for raw, rx in day[:14]:
        live.on_ingested(store(db, raw, rx))
    assert live.deltas == (
        13 % (full_every + 1) if full_every == 3 else 13
    )  # deltas since the last whole one
    again = LiveMonitor(db, checkpoint_every_s=0)  # the first one's memory is gone
    again.load()
    assert again.engine.raised == live.engine.raised and again.position == live.position
    for raw, rx in day[14:]:
        again.on_ingested(store(db, raw, rx))
    got = published(db)
    assert got == expected
