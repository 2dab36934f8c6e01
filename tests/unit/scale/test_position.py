"""The in-server engine's position in the telemetry store (scale/position.py): batches reach the engine in any
order, some numbers never commit; the position never covers a stored batch the engine has not processed."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from openem.scale.position import VOID_AFTER_S, Position

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@given(st.data())
def test_a_stored_batch_not_processed_is_never_covered(data):
    n = data.draw(st.integers(1, 40))
    committed = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))  # False: rolled back
    stored = [i + 1 for i in range(n) if committed[i]]
    processed = data.draw(st.permutations(stored)).copy()[: data.draw(st.integers(0, len(stored)))]
    age = data.draw(st.sampled_from([0.0, VOID_AFTER_S + 1]))
    pos = Position()
    for b in processed:
        pos.mark(b)
    pos.settle([(b, NOW - timedelta(seconds=age), 1) for b in stored if b > pos.through], NOW)
    pos = Position.from_json(pos.to_json())
    assert all(pos.done(b) for b in processed)
    assert not any(pos.done(b) for b in stored if b not in processed)
    assert not pos.above or min(pos.above) > pos.through + 1  # compact: nothing left to move past


def test_a_missing_number_is_void_only_once_a_later_batch_is_old():
    pos = Position()
    for b in (1, 3):
        pos.mark(b)
    assert pos.through == 1 and pos.above == {3}
    pos.settle([(3, NOW - timedelta(seconds=10), 5)], NOW)  # 2 may still be committing
    assert pos.through == 1
    pos.settle([(3, NOW - timedelta(seconds=VOID_AFTER_S + 1), 5)], NOW)  # no transaction lives that long
    assert pos.through == 3 and pos.above == set()
