"""The synthetic EM world: a deterministic, vectorised simulator of the monitored population (people,
orders with labelled defects, devices, activations, telemetry in the wire format, ground truth of every
violation and fault, field reality), calibrated to domain.md. Owns `openem sim generate|stream`.

    from openem.sim import generate_world
    w = generate_world(wearers=50, days=2, seed=1)
"""

from __future__ import annotations

from typing import Any

__all__ = ["generate_world", "write_world", "World", "iter_wire_messages", "stream_world"]


def __getattr__(name: str) -> Any:  # lazy: no work at import time
    if name in ("generate_world", "write_world", "World", "DEFAULT_START"):
        from openem.sim import world

        return getattr(world, name)
    if name in ("iter_wire_messages", "stream_world", "table_to_wire"):
        from openem.sim import stream

        return getattr(stream, name)
    raise AttributeError(name)
