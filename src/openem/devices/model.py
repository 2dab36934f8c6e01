"""Phone enrolment (issue 18): a non-fitted device or a victim's device is a phone running Traccar Client, which
sends to `/ingest/osmand/{token}`. The token is the phone's only credential; openem keeps its SHA-256, never the
token. Pure: no persistence, no web."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

#: the device kinds a phone can be (a fitted tag is never a phone)
PHONE_KINDS = ("NFD", "VICTIM")
TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
DEVICE_ID_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
INGEST_PATH = "/ingest/osmand/"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def plausible_token(token: str) -> bool:
    """A token of the shape openem issues (anything else is refused before the database is asked)."""
    return bool(_TOKEN_SHAPE.match(token))


def enrolment_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + INGEST_PATH + token


def check_kind(kind: str) -> str | None:
    if kind not in PHONE_KINDS:
        return f"A phone is enrolled as NFD (a non-fitted device) or VICTIM, not {kind!r}"
    return None


def check_device_id(device_id: str) -> str | None:
    if not DEVICE_ID_SHAPE.match(device_id):
        return "A device id is 1-64 letters, digits, '.', '_', ':' or '-' (starting with a letter or digit)"
    return None


@dataclass(frozen=True)
class Enrolment:
    token_hash: str
    device_id: str
    kind: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Verdict:
    """What the ingest path answers a phone: its device id, or why not (a stable code and the words)."""

    device_id: str | None
    code: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.device_id is not None


def judge(enrolment: Enrolment | None, presented: str, claimed_id: str | None) -> Verdict:
    """Whether a phone presenting token `presented` (matching `enrolment`, if any) and claiming to be
    `claimed_id` (None: it did not say) may send. A revoked token and an unknown token are told apart (the
    phone's owner needs to know which); a claimed id other than the enrolled one is refused, whatever it is."""
    if enrolment is None or not hmac.compare_digest(enrolment.token_hash, token_hash(presented)):
        return Verdict(None, "unknown_token", "This enrolment link is not known: enrol the phone again")
    if enrolment.revoked_at is not None:
        return Verdict(None, "revoked_token", "This enrolment link was revoked: enrol the phone again")
    if claimed_id is None or claimed_id == "":
        return Verdict(None, "missing_id", "Send the device id ('id', 'deviceid' or 'device_id')")
    if claimed_id != enrolment.device_id:
        return Verdict(
            None, "id_not_enrolled", "This device id is not the one enrolled with this link: set the app's "
            "device identifier to the enrolled id"
        )  # fmt: skip
    return Verdict(enrolment.device_id)
