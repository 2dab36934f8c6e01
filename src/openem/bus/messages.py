"""Base classes for messages. Commands are imperative (SubmitOrder), events past tense (OrderSubmitted).

Both are frozen dataclasses with JSON-safe fields (str, int, float, bool, None, lists, dicts), so that
they can be written to the outbox and sent through a broker unchanged.

Every message has a delivery `key`: what it is about (an order, else a person). Delivery order is kept per
key, never globally, so a message that keeps failing holds back only the later messages about the same
order or person (decision 0014).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

#: fields that name what a message is about, most specific first, with the label used in its key
KEY_FIELDS: tuple[tuple[str, str], ...] = (("order_ref", "order"), ("person_id", "person"))
KEY_LENGTH = 120


def key_from(topic: str, get: Callable[[str], Any], fields: tuple[tuple[str, str], ...] = KEY_FIELDS) -> str:
    """`order:<ref>`, else `person:<id>`, else the topic (a message about nothing in particular keeps its
    order among the messages of its topic)."""
    for name, label in fields:
        value = get(name)
        if isinstance(value, str) and value.strip():
            return f"{label}:{value.strip()}"[:KEY_LENGTH]
    return topic[:KEY_LENGTH]


@dataclasses.dataclass(frozen=True)
class Message:
    #: stable name on the wire, e.g. "orders.OrderSubmitted"; set by subclasses
    topic: ClassVar[str] = ""
    #: a subclass about something else (a device, a visit) names its own key fields here
    key_fields: ClassVar[tuple[tuple[str, str], ...]] = KEY_FIELDS

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def key(self) -> str:
        return key_from(self.topic, lambda name: getattr(self, name, None), self.key_fields)


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


def key_of_payload(topic: str, payload: dict[str, Any]) -> str:
    """The key of a message known only by its topic and payload (e.g. one taken from a broker)."""
    cls = _REGISTRY.get(topic)
    return key_from(topic, payload.get, cls.key_fields if cls else KEY_FIELDS)


def from_dict(topic: str, data: dict[str, Any]) -> Message:
    cls = _REGISTRY.get(topic)
    if cls is None:
        raise KeyError(f"unknown message topic {topic!r}")
    return cls(**data)
