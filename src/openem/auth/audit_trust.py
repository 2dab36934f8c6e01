"""Which keys and anchor files the audit chain of a database uses.

Resolved once per engine from the environment and that engine's database URL (not from an app's settings),
so that every process writing to one database (servers, workers, the CLI, tests seeding data) signs with
the same keys and anchors to the same files.
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openem.auth.audit_anchors import AnchorWriter
from openem.auth.audit_keys import KeyRing, load_keyring
from openem.config import Settings, load_settings


@dataclass
class AuditTrust:
    keys: KeyRing
    anchors: AnchorWriter


_by_engine: weakref.WeakKeyDictionary[Engine, AuditTrust] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def settings_for(database_url: str) -> Settings:
    # The session secret plays no part here: a placeholder keeps load_settings from making one in var/.
    return load_settings(
        {
            **os.environ,
            "OPENEM_DATABASE_URL": database_url,
            "OPENEM_SECRET_KEY": os.environ.get("OPENEM_SECRET_KEY") or "not-used-by-the-audit-chain",
        }
    )


def trust_from_settings(settings: Settings, *, create: bool | None = None) -> AuditTrust:
    """`create`: make a key file if there is no key (default: outside production only)."""
    keys = load_keyring(
        settings.audit_key,
        settings.audit_key_file,
        create=not settings.production if create is None else create,
    )
    return AuditTrust(
        keys,
        AnchorWriter(
            keys, settings.audit_anchor_paths, settings.audit_anchor_rows, settings.audit_anchor_seconds
        ),
    )


def require_keys(settings: Settings) -> None:
    """Refuse to start in production without an audit key (in development one is made on first use)."""
    if settings.production:
        load_keyring(settings.audit_key, settings.audit_key_file, create=False)


def engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def trust_for(engine: Engine) -> AuditTrust:
    with _lock:
        trust = _by_engine.get(engine)
        if trust is None:
            trust = trust_from_settings(settings_for(engine.url.render_as_string(hide_password=False)))
            _by_engine[engine] = trust
        return trust


def configure(engine: Engine, trust: AuditTrust) -> None:
    """Use these keys and anchors for this engine (tests; embedding)."""
    with _lock:
        _by_engine[engine] = trust
