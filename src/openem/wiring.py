"""Composition root: which tables exist, which handlers react to which events. One visible map.

Capabilities never import each other; they react to each other's events, registered here.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from openem.bus.registry import Registry

#: Modules that define tables on openem.store.base.Base (imported for Alembic and create_all).
TABLE_MODULES = [
    "openem.auth.tables",
    "openem.bus.outbox",
    "openem.devices.tables",
    "openem.telemetry.tables",
    "openem.orders.repository",
]


def load_all_tables() -> MetaData:
    from openem.store.base import Base

    for name in TABLE_MODULES:
        importlib.import_module(name)
    return Base.metadata


def build_registry() -> Registry:
    """Event topic -> handlers. Each handler is a plain function (payload, unit_of_work)."""
    registry = Registry()
    return registry
