"""Versioned policy bounds for order validation (curfew hours, durations, agencies, zone sizes) as JSON data."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

CURRENT = "v1"


@lru_cache(maxsize=8)
def load(version: str = CURRENT) -> dict[str, Any]:
    """The policy document `orders/policy/<version>.json`."""
    if not version.replace("_", "").isalnum():
        raise ValueError(f"bad policy version: {version!r}")
    text = resources.files("openem.orders.policy").joinpath(f"{version}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
