"""The audit chain's keys, kept outside the database.

From `OPENEM_AUDIT_KEY` ("ID:SECRET[,ID:SECRET...]": the first signs new rows, the others only verify; or
one bare secret, whose id is derived from it) and/or a key file (JSON, mode 0600, `OPENEM_AUDIT_KEY_FILE`,
by default beside the SQLite database or in var/). In development a key file is made on first use; in
production a key must be given (`openem serve` refuses to start without one, and nothing is audited). `rotate` adds a key and makes
it the signing one; old keys stay, so rows they signed still verify.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from openem.auth.audit_digest import mac

MIN_SECRET_CHARS = 32


class AuditKeyError(RuntimeError):
    """The audit keys are missing, unreadable or too weak: audit rows cannot be written or checked."""


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    secrets: dict[str, bytes]

    def mac(self, key_id: str, message: str) -> str:
        return mac(self.secrets[key_id], message)

    def knows(self, key_id: str | None) -> bool:
        return key_id is not None and key_id in self.secrets


def parse_env_keys(value: str) -> tuple[str, dict[str, bytes]]:
    keys: dict[str, bytes] = {}
    first = ""
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        key_id, sep, secret = part.partition(":")
        if not sep:
            secret = part
            key_id = "env-" + hashlib.sha256(secret.encode()).hexdigest()[:8]
        if len(secret) < MIN_SECRET_CHARS:
            raise AuditKeyError(
                f"OPENEM_AUDIT_KEY: the key {key_id!r} is shorter than {MIN_SECRET_CHARS} characters"
            )
        keys[key_id] = secret.encode("utf-8")
        first = first or key_id
    if not keys:
        raise AuditKeyError("OPENEM_AUDIT_KEY is empty")
    return first, keys


def read_key_file(path: Path) -> tuple[str, dict[str, bytes]]:
    if path.stat().st_mode & 0o077:
        raise AuditKeyError(f"{path} must be readable by its owner only (chmod 600 {path})")
    try:
        data = json.loads(path.read_text())
        keys = {str(k): str(v).encode("utf-8") for k, v in data["keys"].items()}
        current = str(data["current"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AuditKeyError(f"{path} is not an audit key file: {exc}") from None
    if current not in keys:
        raise AuditKeyError(f"{path}: the current key {current!r} is not in the file")
    return current, keys


def write_key_file(path: Path, current: str, keys: dict[str, bytes], *, replace: bool = True) -> None:
    """Written to a temporary file made 0600 before any secret is in it, then renamed over the old one, or
    (`replace=False`) linked into place only if no file is there yet (FileExistsError otherwise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"current": current, "keys": {k: v.decode() for k, v in keys.items()}}, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    if replace:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink()


def new_key_id() -> str:
    return datetime.now(UTC).strftime("k%Y%m%d-") + secrets.token_hex(3)


def load_keyring(env_value: str | None, key_file: Path, *, create: bool) -> KeyRing:
    """Env keys first (the first signs), then the file's; with neither, make a file when `create` is true."""
    keys: dict[str, bytes] = {}
    current = ""
    if key_file.exists():
        current, keys = read_key_file(key_file)
    if env_value:
        env_current, env_keys = parse_env_keys(env_value)
        keys.update(env_keys)
        current = env_current
    if not keys:
        if not create:
            raise AuditKeyError(
                f"no audit key: in production set OPENEM_AUDIT_KEY or make a key file with "
                f"`openem audit rotate-key` ({key_file}); see docs/security.md"
            )
        try:
            _first_key(key_file)
        except FileExistsError:
            pass  # another process made it first: use theirs, so that both sign with the same key
        current, keys = read_key_file(key_file)
    return KeyRing(current, keys)


def _first_key(key_file: Path) -> None:
    key_id = new_key_id()
    write_key_file(key_file, key_id, {key_id: secrets.token_urlsafe(32).encode()}, replace=False)


def rotate(key_file: Path) -> str:
    """Add a new signing key to the key file (made if missing); the old keys stay for verification."""
    keys: dict[str, bytes] = {}
    if key_file.exists():
        _, keys = read_key_file(key_file)
    key_id = new_key_id()
    while key_id in keys:
        key_id = new_key_id()
    keys[key_id] = secrets.token_urlsafe(32).encode()
    write_key_file(key_file, key_id, keys)
    return key_id
