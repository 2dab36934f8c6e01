"""Events the monitoring capability publishes: `AlertRaised` carries one alert record (JSON-safe);
`EpisodeOpened / Updated / Closed` carry one episode record (payload key `episode`)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from openem.bus.messages import Event, message_type


@message_type
@dataclasses.dataclass(frozen=True)
class AlertRaised(Event):
    topic: ClassVar[str] = "monitoring.AlertRaised"

    alert_id: str
    kind: str
    severity: str
    person_id: str
    order_ref: str
    device_id: str
    condition_id: str
    start: str
    end: str | None
    detected_at: str
    late_detected: bool
    evidence: list[list[Any]]
    details: dict[str, Any]

    @classmethod
    def from_alert(cls, alert: dict[str, Any]) -> AlertRaised:
        fields = {k: v for k, v in alert.items() if k != "id"}
        return cls(alert_id=alert["id"], **fields)


@dataclasses.dataclass(frozen=True)
class _EpisodeEvent(Event):
    """An episode record (monitoring/episodes.py; contract in docs/decisions/0020-episodes.md): payload key
    `episode`. `order_ref` and `person_id` repeat the episode's so delivery keeps an order's records in
    order (decision 0014); consumers keep the highest `revision` per `episode_id`."""

    episode: dict[str, Any]
    order_ref: str = ""
    person_id: str = ""

    @classmethod
    def of(cls, record: dict[str, Any]) -> _EpisodeEvent:
        ep = {k: v for k, v in record.items() if k != "change"}
        return cls(
            episode=ep, order_ref=str(ep.get("order_ref") or ""), person_id=str(ep.get("person_id") or "")
        )


@message_type
@dataclasses.dataclass(frozen=True)
class EpisodeOpened(_EpisodeEvent):
    topic: ClassVar[str] = "monitoring.EpisodeOpened"


@message_type
@dataclasses.dataclass(frozen=True)
class EpisodeUpdated(_EpisodeEvent):
    topic: ClassVar[str] = "monitoring.EpisodeUpdated"


@message_type
@dataclasses.dataclass(frozen=True)
class EpisodeClosed(_EpisodeEvent):
    topic: ClassVar[str] = "monitoring.EpisodeClosed"


EPISODE_EVENTS: dict[str, type[_EpisodeEvent]] = {
    "opened": EpisodeOpened, "updated": EpisodeUpdated, "closed": EpisodeClosed,
}  # fmt: skip


def episode_event(record: dict[str, Any]) -> _EpisodeEvent:
    """The event of an episode record from `Engine.take_episodes` (its `change` picks the topic)."""
    return EPISODE_EVENTS[str(record.get("change") or "updated")].of(record)
