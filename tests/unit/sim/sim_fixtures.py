"""Small simulated worlds shared by the simulator's tests (built once per test process)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from openem.sim import World, generate_world


@lru_cache(maxsize=1)
def small_world() -> World:
    return generate_world(wearers=500, days=2, seed=11)


@lru_cache(maxsize=1)
def dst_world() -> World:
    """Three days across the last Sunday of October 2026 (clocks go back at 02:00 BST on the 25th)."""
    return generate_world(wearers=300, days=3, seed=5, start=date(2026, 10, 24))
