"""Configuration from the environment, with safe defaults. Read when asked, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    secret_key: str
    environment: str  # "development" (demo, tests) or "production"
    bus_url: str  # "inprocess" or nats://127.0.0.1:4222
    mqtt_url: str | None
    max_body_bytes: int
    session_max_age_s: int
    secure_cookies: bool
    static_dir: Path | None
    tile_url: str | None
    engine_partitions: int = 0  # 0: the engine runs in the server; N: N partitions on `openem worker --engine`
    #: a PMTiles extract served at /basemap.pmtiles and drawn under every map (OPENEM_BASEMAP_PMTILES)
    basemap_pmtiles: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.environment == "production"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    e = dict(os.environ if env is None else env)
    var_dir = Path(e.get("OPENEM_VAR_DIR", "var")).resolve()
    environment = e.get("OPENEM_ENV", "development")
    secret = e.get("OPENEM_SECRET_KEY")
    if not secret:
        if environment == "production":
            raise RuntimeError("OPENEM_SECRET_KEY must be set in production")
        secret = _dev_secret(var_dir)
    db = e.get("OPENEM_DATABASE_URL") or f"sqlite:///{var_dir / 'openem.db'}"
    static = e.get("OPENEM_STATIC_DIR")
    return Settings(
        database_url=db,
        var_dir=var_dir,
        secret_key=secret,
        environment=environment,
        bus_url=e.get("OPENEM_BUS_URL", "inprocess"),
        mqtt_url=e.get("OPENEM_MQTT_URL") or None,
        max_body_bytes=int(e.get("OPENEM_MAX_BODY_BYTES", str(10 * 1024 * 1024))),
        session_max_age_s=int(e.get("OPENEM_SESSION_MAX_AGE", str(8 * 3600))),
        secure_cookies=_bool(e.get("OPENEM_SECURE_COOKIES"), environment == "production"),
        static_dir=Path(static) if static else None,
        tile_url=e.get("OPENEM_TILE_URL") or None,
        engine_partitions=int(e.get("OPENEM_ENGINE_PARTITIONS", "0")),
        basemap_pmtiles=Path(e["OPENEM_BASEMAP_PMTILES"]).resolve() if e.get("OPENEM_BASEMAP_PMTILES") else None,
    )


def _dev_secret(var_dir: Path) -> str:
    """A random secret kept in var/ so that sessions survive a restart of the demo."""
    import secrets

    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
