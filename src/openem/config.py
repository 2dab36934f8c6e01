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
    engine_partitions: int = (
        0  # 0: the engine runs in the server; N: N partitions on `openem worker --engine`
    )
    #: /health answers 503 past these (seconds): the oldest outbox message waiting, the engine not having run
    health_outbox_max_age_s: float = 300.0
    health_engine_max_lag_s: float = 900.0
    #: a PMTiles extract served at /basemap.pmtiles and drawn under every map (OPENEM_BASEMAP_PMTILES)
    basemap_pmtiles: Path | None = None
    #: audit chain keys: "ID:SECRET[,ID:SECRET...]" (the first signs, the rest verify) or one bare secret
    audit_key: str | None = None
    audit_key_file: Path = Path("var/audit_keys.json")  # keys made by `openem audit rotate-key` (mode 0600)
    #: where signed anchors of the chain's head go (several paths separated by os.pathsep: each gets them all)
    audit_anchor_paths: tuple[Path, ...] = ()
    audit_anchor_rows: int = 100  # anchor after this many new rows ...
    audit_anchor_seconds: float = 60.0  # ... or this long after an unanchored row, whichever comes first
    #: sign-in lockout per account, and throttles per client address (sign-in and bearer tokens)
    signin_account_failures: int = 5
    signin_account_window_s: int = 15 * 60
    signin_lock_s: int = 15 * 60  # doubles with each lockout in a day, up to a day
    signin_address_failures: int = 20
    signin_address_window_s: int = 10 * 60
    token_address_failures: int = 20
    token_address_window_s: int = 10 * 60
    metrics_token: str | None = (
        None  # bearer token a Prometheus scraper sends; without it only loopback may scrape
    )
    extra: dict[str, str] = field(default_factory=dict)
    #: trackers over TCP inside `openem serve` (decision 0027): OPENEM_GT06_PORT, OPENEM_TELTONIKA_PORT (unset: no
    #: listener; 0: any free port), on OPENEM_TRACKER_HOST (default 127.0.0.1; 0.0.0.0 to take devices from outside)
    gt06_port: int | None = None
    teltonika_port: int | None = None
    tracker_host: str = "127.0.0.1"
    #: "fast" (orjson, activations from memory) or "legacy" (the path before: for the benchmark beside it)
    ingest_path: str = "fast"
    #: field/ geocoding (decision 0030): an OS Places-like address service (OPENEM_ADDRESS_SERVICE_URL, _KEY,
    #: _TIMEOUT_S) with the offline postcode centroids behind it; unset: the offline centroids alone
    address_service_url: str | None = None
    address_service_key: str = ""
    address_service_timeout_s: float = 3.0
    #: phones (Traccar Client / OsmAnd) on a port of their own as well (decision 0033): OPENEM_OSMAND_PORT (unset:
    #: none; 0: any free port), on OPENEM_TRACKER_HOST; only /ingest/osmand/{token} is served there
    osmand_port: int | None = None

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
    audit_dir = _audit_dir(db, var_dir)
    key_file = (
        Path(e["OPENEM_AUDIT_KEY_FILE"]) if e.get("OPENEM_AUDIT_KEY_FILE") else audit_dir / "audit_keys.json"
    )
    audit_key = e.get("OPENEM_AUDIT_KEY") or None
    anchors = e.get("OPENEM_AUDIT_ANCHOR_PATH")
    anchor_paths = (
        tuple(Path(p) for p in anchors.split(os.pathsep) if p)
        if anchors
        else (audit_dir / "audit-anchors" / f"{_database_name(db)}.jsonl",)
    )
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
        health_outbox_max_age_s=float(e.get("OPENEM_HEALTH_OUTBOX_MAX_AGE_S", "300")),
        health_engine_max_lag_s=float(e.get("OPENEM_HEALTH_ENGINE_MAX_LAG_S", "900")),
        basemap_pmtiles=Path(e["OPENEM_BASEMAP_PMTILES"]).resolve()
        if e.get("OPENEM_BASEMAP_PMTILES")
        else None,
        audit_key=audit_key,
        audit_key_file=key_file,
        audit_anchor_paths=anchor_paths,
        audit_anchor_rows=max(1, int(e.get("OPENEM_AUDIT_ANCHOR_ROWS", "100"))),
        audit_anchor_seconds=float(e.get("OPENEM_AUDIT_ANCHOR_SECONDS", "60")),
        signin_account_failures=int(e.get("OPENEM_SIGNIN_ACCOUNT_FAILURES", "5")),
        signin_account_window_s=int(e.get("OPENEM_SIGNIN_ACCOUNT_WINDOW", str(15 * 60))),
        signin_lock_s=int(e.get("OPENEM_SIGNIN_LOCK", str(15 * 60))),
        signin_address_failures=int(e.get("OPENEM_SIGNIN_ADDRESS_FAILURES", "20")),
        signin_address_window_s=int(e.get("OPENEM_SIGNIN_ADDRESS_WINDOW", str(10 * 60))),
        token_address_failures=int(e.get("OPENEM_TOKEN_ADDRESS_FAILURES", "20")),
        token_address_window_s=int(e.get("OPENEM_TOKEN_ADDRESS_WINDOW", str(10 * 60))),
        metrics_token=e.get("OPENEM_METRICS_TOKEN") or None,
        gt06_port=int(e["OPENEM_GT06_PORT"]) if e.get("OPENEM_GT06_PORT") else None,
        teltonika_port=int(e["OPENEM_TELTONIKA_PORT"]) if e.get("OPENEM_TELTONIKA_PORT") else None,
        tracker_host=e.get("OPENEM_TRACKER_HOST") or "127.0.0.1",
        ingest_path=e.get("OPENEM_INGEST_PATH", "fast"),
        address_service_url=e.get("OPENEM_ADDRESS_SERVICE_URL") or None,
        address_service_key=e.get("OPENEM_ADDRESS_SERVICE_KEY", ""),
        address_service_timeout_s=float(e.get("OPENEM_ADDRESS_SERVICE_TIMEOUT_S", "3")),
        osmand_port=int(e["OPENEM_OSMAND_PORT"]) if e.get("OPENEM_OSMAND_PORT") else None,
    )


def _audit_dir(database_url: str, var_dir: Path) -> Path:
    """Where the audit key file and anchors live by default: beside a SQLite database file (var/ for the
    default database), so that every process using that file finds the same ones; var/ otherwise."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:" and "///" in database_url:
            return Path(path).resolve().parent
    return var_dir


def _database_name(database_url: str) -> str:
    """A file-name-safe name of the database (one anchor file per database)."""
    tail = database_url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    stem = tail.rsplit(".", 1)[0] if tail.endswith((".db", ".sqlite", ".sqlite3")) else tail
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:80] or "openem"


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
