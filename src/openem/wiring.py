"""Composition root: which tables exist, which handlers react to which events. One visible map.

Capabilities never import each other; they react to each other's events, registered here.
"""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy import MetaData

from openem.bus.registry import Registry

#: Modules that define tables on openem.store.base.Base (imported for Alembic and create_all).
TABLE_MODULES = [
    "openem.auth.tables",
    "openem.bus.outbox",
    "openem.devices.tables",
    "openem.field.tables",
    "openem.telemetry.tables",
    "openem.orders.repository",
    "openem.alerts.tables",
    "openem.scale",
    "openem.crime.tables",
    "openem.breaches.tables",
    "openem.notify.tables",
    "openem.insights.repository",
]


def load_all_tables() -> MetaData:
    from openem.store.base import Base

    for name in TABLE_MODULES:
        importlib.import_module(name)
    return Base.metadata


def build_registry(live: Any = None) -> Registry:
    """Event topic -> handlers. Each handler is a plain function (payload, unit_of_work).

    `live` is the in-process monitoring loop (openem.live.LiveMonitor) when this process runs one."""
    from openem.alerts.service import (
        EPISODE_TOPICS,
        on_alert_for_triage,
        on_alert_raised,
        on_episode,
        on_episode_for_triage,
    )
    from openem.field.service import on_order_accepted, on_order_ended

    registry = Registry()
    registry.on("monitoring.AlertRaised", "alerts.store", on_alert_raised)
    registry.on("monitoring.AlertRaised", "alerts.triage", on_alert_for_triage)
    for topic in EPISODE_TOPICS:
        registry.on(topic, "alerts.store_episode", on_episode)
        registry.on(topic, "alerts.triage_episode", on_episode_for_triage)
    registry.on("orders.OrderAccepted", "field.fitting_visit", on_order_accepted)
    registry.on("orders.OrderEnded", "field.recovery_visit", on_order_ended)
    from openem.breaches.service import on_incident_escalated, on_message_acknowledged, on_message_delivered
    from openem.notify.service import on_pack_issued, on_reminder_due

    registry.on("alerts.IncidentEscalated", "breaches.open_breach", on_incident_escalated)
    registry.on("breaches.PackIssued", "notify.deliver_pack", on_pack_issued)
    registry.on("breaches.ReminderDue", "notify.deliver_reminder", on_reminder_due)
    registry.on("notify.MessageDelivered", "breaches.delivered", on_message_delivered)
    registry.on("notify.MessageAcknowledged", "breaches.acknowledged", on_message_acknowledged)
    from openem.field.service import on_order_varied

    registry.on("orders.OrderVaried", "field.follow_address", on_order_varied)
    if live is not None:
        registry.on("orders.OrderAccepted", "monitoring.apply_order", live.on_order)
        registry.on("orders.OrderVaried", "monitoring.apply_variation", live.on_order)
        registry.on("orders.OrderEnded", "monitoring.end_order", live.on_order_ended)
        registry.on("orders.OrderSuspended", "monitoring.suspend_order", live.on_order_ended)
        registry.on("orders.OrderResumed", "monitoring.resume_order", live.on_order)
    return registry
