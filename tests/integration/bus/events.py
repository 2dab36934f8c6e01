"""Test events about orders, and a dispatcher that delivers to in-process handlers with a short retry policy."""

import dataclasses

from openem.bus.dispatch import OutboxDispatcher, deliver_locally
from openem.bus.messages import Event, message_type
from openem.bus.registry import Registry
from openem.bus.retry import RetryPolicy


@message_type
@dataclasses.dataclass(frozen=True)
class OrderNoted(Event):
    topic = "test.OrderNoted"
    order_ref: str
    n: int


def local_dispatcher(db, registry: Registry, max_attempts: int = 3) -> OutboxDispatcher:
    """No wait between tries (base 0 s), so a test reaches the cap by calling `run_once` a few times."""
    return OutboxDispatcher(
        db,
        lambda t, mid, p: deliver_locally(db, registry, t, mid, p),
        policy=RetryPolicy(max_attempts=max_attempts, base_s=0.0),
    )


def publish(db, *events) -> None:
    with db.uow() as uow:
        for ev in events:
            uow.add_event(ev)


def until_parked(dispatcher: OutboxDispatcher, db, rounds: int = 20) -> list:
    """Run the dispatcher until something is parked (bounded), returning the parked messages."""
    from openem.bus.parking import parked_messages

    for _ in range(rounds):
        dispatcher.run_once()
        with db.uow() as uow:
            parked = parked_messages(uow.session)
        if parked:
            return parked
    raise AssertionError(f"nothing parked after {rounds} rounds")
