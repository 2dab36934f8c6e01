"""Handlers: plain functions registered against a topic in one visible map (see `openem/wiring.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openem.store.db import UnitOfWork

#: handler(message_payload_dict, unit_of_work) -> None
Handler = Callable[[dict[str, Any], UnitOfWork], None]


@dataclass
class Registry:
    handlers: dict[str, list[tuple[str, Handler]]] = field(default_factory=dict)

    def on(self, topic: str, name: str, fn: Handler) -> None:
        self.handlers.setdefault(topic, []).append((name, fn))

    def for_topic(self, topic: str) -> list[tuple[str, Handler]]:
        return list(self.handlers.get(topic, ()))

    @property
    def topics(self) -> list[str]:
        return sorted(self.handlers)
