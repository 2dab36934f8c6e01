"""Base classes for messages. Commands are imperative (SubmitOrder), events past tense (OrderSubmitted).

Both are frozen dataclasses with JSON-safe fields (str, int, float, bool, None, lists, dicts), so that
they can be written to the outbox and sent through a broker unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar


@dataclasses.dataclass(frozen=True)
class Message:
    #: stable name on the wire, e.g. "orders.OrderSubmitted"; set by subclasses
    topic: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Event(Message):
    pass


@dataclasses.dataclass(frozen=True)
class Command(Message):
    pass


_REGISTRY: dict[str, type[Message]] = {}


def message_type(cls: type[Message]) -> type[Message]:
    """Class decorator: register a message type by its topic so the outbox can rebuild it."""
    if not cls.topic:
        raise ValueError(f"{cls.__name__} has no topic")
    _REGISTRY[cls.topic] = cls
    return cls


def from_dict(topic: str, data: dict[str, Any]) -> Message:
    cls = _REGISTRY.get(topic)
    if cls is None:
        raise KeyError(f"unknown message topic {topic!r}")
    return cls(**data)
