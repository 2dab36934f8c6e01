"""One bad message holds back only the messages about the same order, is parked after a few attempts, and
is delivered (before the messages held behind it) when retried; no failure is taken for success."""

import threading

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from tests.integration.bus.events import OrderNoted, local_dispatcher, publish, until_parked

from openem.bus import outbox
from openem.bus.dispatch import deliver_locally
from openem.bus.outbox import OutboxRow, ProcessedRow
from openem.bus.parking import parked_messages, refresh_gauges, requeue
from openem.bus.registry import Registry
from openem.bus.retry import DestinationUnavailable, RetryPolicy


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Recorder:
    """A handler that records what it handled and fails on the messages it is told to."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, int]] = []
        self.failing: set[tuple[str, int]] = set()

    def __call__(self, payload, uow) -> None:
        item = (payload["order_ref"], payload["n"])
        if item in self.failing:
            raise ValueError(f"cannot handle {item}")
        self.handled.append(item)


@pytest.fixture
def setup(db):
    outbox.install(db)
    recorder = Recorder()
    registry = Registry()
    registry.on(OrderNoted.topic, "recorder", recorder)
    return db, registry, recorder


def _row(db, order_ref, n) -> OutboxRow:
    with db.uow() as uow:
        rows = (
            uow.session.execute(select(OutboxRow).where(OutboxRow.key == f"order:{order_ref}"))
            .scalars()
            .all()
        )
        return next(r for r in rows if r.payload["n"] == n)


def test_a_failing_message_of_one_order_does_not_stop_another_orders_messages(setup):
    db, registry, recorder = setup
    recorder.failing.add(("ORD-A", 1))
    publish(
        db, OrderNoted("ORD-A", 1), OrderNoted("ORD-B", 1), OrderNoted("ORD-A", 2), OrderNoted("ORD-B", 2)
    )
    dispatcher = local_dispatcher(db, registry)
    assert dispatcher.run_once() == 2
    assert recorder.handled == [("ORD-B", 1), ("ORD-B", 2)]  # ORD-A's second message waits behind its first
    first, second = _row(db, "ORD-A", 1), _row(db, "ORD-A", 2)
    assert first.delivered_at is None and first.attempts == 1 and "cannot handle" in first.last_error
    assert second.delivered_at is None and second.attempts == 0
    assert _row(db, "ORD-B", 1).delivered_at is not None


def test_after_the_cap_it_is_parked_with_its_error_and_a_retry_delivers_it_before_those_held_behind_it(setup):
    db, registry, recorder = setup
    recorder.failing.add(("ORD-A", 1))
    publish(db, OrderNoted("ORD-A", 1), OrderNoted("ORD-A", 2), OrderNoted("ORD-B", 1))
    dispatcher = local_dispatcher(db, registry, max_attempts=3)
    failures_before = sample("openem_bus_delivery_failures_total", topic=OrderNoted.topic, stage="outbox")
    [parked] = until_parked(dispatcher, db)
    assert (parked.topic, parked.key, parked.attempts, parked.held) == (OrderNoted.topic, "order:ORD-A", 3, 1)
    assert parked.error == "ValueError: cannot handle ('ORD-A', 1)"
    assert (
        sample("openem_bus_delivery_failures_total", topic=OrderNoted.topic, stage="outbox") - failures_before
        == 3
    )
    dispatcher.drain()  # parked: not tried again, and ORD-A's second message stays held
    assert recorder.handled == [("ORD-B", 1)] and _row(db, "ORD-A", 1).attempts == 3
    with db.uow() as uow:
        assert refresh_gauges(uow.session) == 1
    assert sample("openem_bus_parked_messages") == 1 and sample("openem_bus_held_messages") == 1

    recorder.failing.clear()  # the handler is fixed
    with db.uow() as uow:
        assert requeue(uow.session, [parked.message_id]) == [parked.message_id]
    assert dispatcher.drain() == 2
    assert recorder.handled == [("ORD-B", 1), ("ORD-A", 1), ("ORD-A", 2)]
    with db.uow() as uow:
        assert parked_messages(uow.session) == [] and refresh_gauges(uow.session) == 0


def test_retrying_a_message_that_fails_again_parks_it_again_after_a_fresh_set_of_attempts(setup):
    db, registry, recorder = setup
    recorder.failing.add(("ORD-A", 1))
    publish(db, OrderNoted("ORD-A", 1))
    dispatcher = local_dispatcher(db, registry, max_attempts=2)
    [parked] = until_parked(dispatcher, db)
    with db.uow() as uow:
        assert requeue(uow.session) == [parked.message_id]
        assert requeue(uow.session, ["MSG-NOT-PARKED"]) == []
    assert _row(db, "ORD-A", 1).parked_at is None
    [again] = until_parked(dispatcher, db)
    assert again.message_id == parked.message_id and again.attempts == 2
    assert _row(db, "ORD-A", 1).retries == 1


def test_a_failure_waits_out_its_backoff_before_it_is_tried_again(setup):
    db, registry, recorder = setup
    recorder.failing.add(("ORD-A", 1))
    publish(db, OrderNoted("ORD-A", 1))
    dispatcher = local_dispatcher(db, registry)
    dispatcher.policy = RetryPolicy(max_attempts=3, base_s=3600, max_s=3600)
    dispatcher.run_once()
    dispatcher.run_once()  # within the hour's backoff: not tried
    row = _row(db, "ORD-A", 1)
    assert row.attempts == 1 and row.next_attempt_at is not None and row.parked_at is None


def test_a_broker_outage_is_retried_without_using_up_the_messages_attempts(db):
    outbox.install(db)
    publish(db, OrderNoted("ORD-A", 1))
    down = {"calls": 0}

    def publisher(topic, mid, payload):
        down["calls"] += 1
        if down["calls"] <= 5:
            raise DestinationUnavailable("broker down")

    from openem.bus.dispatch import OutboxDispatcher

    dispatcher = OutboxDispatcher(db, publisher, policy=RetryPolicy(max_attempts=2, base_s=0))
    for _ in range(5):
        assert dispatcher.run_once() == 0
    row = _row(db, "ORD-A", 1)
    assert row.attempts == 0 and row.parked_at is None and "broker down" in row.last_error
    assert dispatcher.run_once() == 1


class UniqueThing:
    """A table of the test's own with a unique key, standing in for a handler's domain table."""

    table = sa.Table("test_unique_things", sa.MetaData(), sa.Column("id", sa.String(40), primary_key=True))


def test_a_handler_whose_own_insert_conflicts_fails_and_is_not_recorded_as_processed(setup):
    db, registry, _ = setup
    UniqueThing.table.create(db.engine)
    with db.engine.begin() as conn:
        conn.execute(UniqueThing.table.insert().values(id="THING-1"))

    def insert_thing(payload, uow):
        uow.session.execute(UniqueThing.table.insert().values(id="THING-1"))

    registry.handlers.clear()
    registry.on(OrderNoted.topic, "inserter", insert_thing)
    with pytest.raises(sa.exc.IntegrityError):
        deliver_locally(db, registry, OrderNoted.topic, "MSG-1", {"order_ref": "ORD-A", "n": 1})
    with db.uow() as uow:
        assert uow.session.execute(select(func.count()).select_from(ProcessedRow)).scalar_one() == 0

    publish(db, OrderNoted("ORD-A", 1))
    local_dispatcher(db, registry).run_once()
    row = _row(db, "ORD-A", 1)
    assert row.delivered_at is None and row.attempts == 1 and "IntegrityError" in row.last_error


def test_a_repeat_delivery_of_a_handled_message_is_skipped(setup):
    db, registry, recorder = setup
    payload = {"order_ref": "ORD-A", "n": 1}
    assert deliver_locally(db, registry, OrderNoted.topic, "MSG-1", payload) == 1
    assert deliver_locally(db, registry, OrderNoted.topic, "MSG-1", payload) == 0
    assert recorder.handled == [("ORD-A", 1)]


def test_a_delivery_racing_another_worker_on_the_same_message_is_skipped_not_failed(setup):
    """Worker 2 looks for the marker before worker 1 commits it; its own marker insert then conflicts."""
    db, registry, recorder = setup
    inside, release, flushing = threading.Event(), threading.Event(), threading.Event()

    def slow(payload, uow):
        inside.set()
        assert release.wait(30)
        recorder(payload, uow)

    registry.handlers.clear()
    registry.on(OrderNoted.topic, "recorder", slow)

    def second_worker_flushes(session, flush_context, instances):
        if threading.current_thread().name == "worker-2":
            flushing.set()  # it has looked and not found worker 1's (uncommitted) marker
            release.set()

    payload = {"order_ref": "ORD-A", "n": 1}
    results: dict[str, object] = {}

    def worker(name):
        try:
            results[name] = deliver_locally(db, registry, OrderNoted.topic, "MSG-1", payload)
        except Exception as exc:  # noqa: BLE001
            results[name] = exc

    event.listen(Session, "before_flush", second_worker_flushes)
    try:
        first = threading.Thread(target=worker, args=("worker-1",), name="worker-1")
        first.start()
        assert inside.wait(30)
        second = threading.Thread(target=worker, args=("worker-2",), name="worker-2")
        second.start()
        first.join(60)
        second.join(60)
    finally:
        event.remove(Session, "before_flush", second_worker_flushes)
    assert flushing.is_set()
    assert results == {"worker-1": 1, "worker-2": 0}
    assert recorder.handled == [("ORD-A", 1)]
