"""Notify use cases: put a breach pack (or a reminder) into the responsible inboxes and queue a delivery per
channel of those inboxes (bus handlers, so a request to deliver is as safe as the outbox); the deliverer
sends what is due, keeps a receipt of every attempt and tries a failed delivery again with a doubling wait,
never giving up (a channel that is down loses nothing); officials acknowledge messages in their inbox."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.bus.loop import WakeableLoop
from openem.core.ids import new_id
from openem.core.time import iso, utcnow
from openem.notify import channels
from openem.notify.events import MessageAcknowledged, MessageDelivered
from openem.notify.tables import AttemptRow, ChannelRow, DeliveryRow, InboxMessageRow

log = logging.getLogger("openem.notify")
KINDS = ("email", "webhook")
EMAIL = re.compile(r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,}$")


def _id(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]


def add_channel(
    uow: Any, inbox: str, kind: str, address: str, secret: str = "", actor: str = "system"
) -> str:
    """An email address or webhook URL (with its signing secret) that an inbox's messages also go to."""
    inbox, address = inbox.strip()[:200], address.strip()
    if not inbox:
        raise ValueError("name the inbox (a team such as police:WEST_YORKSHIRE, or an officer's email)")
    if kind not in KINDS:
        raise ValueError(f"channel kind must be one of {', '.join(KINDS)}")
    if kind == "email" and not EMAIL.match(address):
        raise ValueError("not an email address")
    if kind == "webhook":
        if not re.match(r"^https?://[^\s/]{1,200}(/[^\s]{0,290})?$", address):
            raise ValueError("a webhook address is an http(s) URL")
        if len(secret) < 16:
            raise ValueError("a webhook needs a signing secret of at least 16 characters")
    channel_id = new_id("CHN")
    uow.session.add(ChannelRow(channel_id=channel_id, inbox=inbox, kind=kind, address=address[:500],
                               secret=secret[:200], active=True, created_at=utcnow()))  # fmt: skip
    uow.add_audit(
        actor=actor, action=f"notify:channel:{channel_id}:add", details={"inbox": inbox, "kind": kind}
    )
    return channel_id


def deliver(uow: Any, *, subject_kind: str, subject_id: str, version: int, inboxes: list[str], title: str,
            body: str, link: str, urgency: str, order_ref: str, payload: dict[str, Any],
            now: datetime | None = None) -> list[str]:  # fmt: skip
    """Inbox messages (delivered at once) and one pending delivery per active channel of each inbox.
    Idempotent: the same subject version to the same inbox or channel is queued once."""
    session: Session = uow.session
    now = now or utcnow()
    made = []
    for inbox in dict.fromkeys(i for i in inboxes if i):
        mid = _id(subject_kind, subject_id, version, inbox, title)
        if session.get(InboxMessageRow, mid) is None:
            session.add(InboxMessageRow(message_id=mid, inbox=inbox[:200], subject_kind=subject_kind,
                                        subject_id=subject_id[:40], subject_version=version, title=title[:300],
                                        body=body[:5000], link=link[:300], urgency=urgency, order_ref=order_ref[:40],
                                        created_at=now))  # fmt: skip
            uow.add_event(MessageDelivered(subject_kind=subject_kind, subject_id=subject_id, subject_version=version,
                                           order_ref=order_ref, channel="inbox", address=inbox, at=iso(now)))  # fmt: skip
            made.append(mid)
        for ch in session.scalars(
            select(ChannelRow).where(ChannelRow.inbox == inbox, ChannelRow.active.is_(True))
        ):
            did = _id(subject_kind, subject_id, version, ch.channel_id, title)
            if session.get(DeliveryRow, did) is None:
                session.add(DeliveryRow(delivery_id=did, channel_id=ch.channel_id, kind=ch.kind, address=ch.address,
                                        subject_id=subject_id[:40], subject_version=version,
                                        payload={**payload, "title": title, "body": body, "link": link,
                                                 "subject_kind": subject_kind, "order_ref": order_ref},
                                        status="pending", attempts=0, next_attempt_at=now, created_at=now))  # fmt: skip
    session.flush()
    return made


def on_pack_issued(payload: dict[str, Any], uow: Any) -> None:
    """Bus handler for `breaches.PackIssued`: the team's and the officer's inboxes, and their channels."""
    deliver(uow, subject_kind="breach", subject_id=str(payload["breach_id"]), version=int(payload.get("version") or 1),
            inboxes=[str(payload.get("team") or ""), str(payload.get("officer") or "")],
            title=str(payload.get("title") or ""), body=str(payload.get("summary") or ""),
            link=str(payload.get("link") or ""), urgency=str(payload.get("urgency") or "standard"),
            order_ref=str(payload.get("order_ref") or ""),
            payload={"type": "breach_pack", "breach_id": payload["breach_id"], "version": payload.get("version"),
                     "sha256": payload.get("sha256"), "pack": payload.get("pack") or {},
                     "attachment": {"breach_id": payload["breach_id"], "version": payload.get("version")}})  # fmt: skip


def on_reminder_due(payload: dict[str, Any], uow: Any) -> None:
    level = str(payload.get("level") or "remind")
    deliver(uow, subject_kind="reminder", subject_id=str(payload["breach_id"]), version=1 if level == "remind" else 2,
            inboxes=[str(payload.get("team") or ""), str(payload.get("officer") or "")],
            title=str(payload.get("title") or ""), body="Record the outcome of this breach.",
            link=str(payload.get("link") or ""), urgency="standard", order_ref=str(payload.get("order_ref") or ""),
            payload={"type": "breach_reminder", "breach_id": payload["breach_id"], "level": level})  # fmt: skip


def acknowledge(
    uow: Any, message_id: str, inboxes: set[str], actor: str, now: datetime | None = None
) -> bool:
    """An official acknowledges a message in one of their inboxes (once; a repeat changes nothing). The other
    copies of the same message (the team's and the officer's inbox get one each) are acknowledged with it, by
    the same person: a team inbox is read once, and the rest of the team sees who has it instead of taking
    it up again."""
    row = uow.session.get(InboxMessageRow, message_id)
    if row is None or row.inbox not in inboxes:
        raise KeyError(message_id)
    if row.acknowledged_at is not None:
        return False
    now = now or utcnow()
    m = InboxMessageRow
    copies = list(uow.session.scalars(select(m).where(
        m.subject_kind == row.subject_kind, m.subject_id == row.subject_id, m.subject_version == row.subject_version,
        m.title == row.title, m.acknowledged_at.is_(None), m.message_id != row.message_id)))  # fmt: skip
    for r in (row, *copies):
        r.acknowledged_at, r.acknowledged_by = now, actor[:120]
    uow.add_event(MessageAcknowledged(subject_kind=row.subject_kind, subject_id=row.subject_id, order_ref=row.order_ref,
                                      inbox=row.inbox, by=actor, at=iso(now)))  # fmt: skip
    uow.add_audit(actor=actor, action=f"notify:message:{message_id}:acknowledge", records=[row.order_ref],
                  details={"with": sorted(r.inbox for r in copies)})  # fmt: skip
    return True


# -- the deliverer ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "openem-monitoring@localhost"
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SmtpSettings:
        e = env if env is not None else dict(os.environ)
        return cls(e.get("OPENEM_SMTP_HOST", "127.0.0.1"), int(e.get("OPENEM_SMTP_PORT", "25")),
                   e.get("OPENEM_SMTP_FROM", "openem-monitoring@localhost"),
                   float(e.get("OPENEM_NOTIFY_TIMEOUT_S", "10")))  # fmt: skip


@dataclass(frozen=True)
class Backoff:
    first_s: float = 5.0
    max_s: float = 900.0

    def wait(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_s, self.first_s * 2 ** max(0, attempts - 1)))


Attachment = Callable[[Session, dict[str, Any]], list[tuple[str, str, bytes]]]


def breach_pack_attachment(session: Session, payload: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    """The pack's PDF, for emails about a breach pack (asked of breaches through its queries)."""
    from openem.breaches.queries import pack_file

    ref = payload.get("attachment") or {}
    if payload.get("type") != "breach_pack" or not ref:
        return []
    found = pack_file(session, str(ref.get("breach_id")), int(ref.get("version") or 1), "pdf")
    return (
        [(f"{ref.get('breach_id')}-v{ref.get('version')}.pdf", "application/pdf", found[0])] if found else []
    )


class Deliverer(WakeableLoop):
    """Sends due deliveries, one transaction to read and one to record each attempt (nothing is held open while
    a slow channel answers). A failure waits `Backoff` before the next try; nothing is ever dropped."""

    def __init__(self, db: Any, smtp: SmtpSettings | None = None, backoff: Backoff = Backoff(),
                 clock: Callable[[], datetime] = utcnow, attachments: Attachment = breach_pack_attachment) -> None:  # fmt: skip
        self.db, self.smtp, self.backoff, self.clock = db, smtp or SmtpSettings.from_env(), backoff, clock
        self.attachments = attachments
        super().__init__()
        self._lock = threading.Lock()

    def run_once(self, limit: int = 50) -> tuple[int, int]:
        """One pass over the due deliveries: (delivered, failed)."""
        with self._lock:
            now = self.clock()
            with self.db.uow() as uow:
                due = [(d.delivery_id, d.kind, d.address, d.channel_id, dict(d.payload),
                        self.attachments(uow.session, dict(d.payload)) if d.kind == "email" else [])
                       for d in uow.session.scalars(select(DeliveryRow).where(
                           DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now)
                           .order_by(DeliveryRow.next_attempt_at, DeliveryRow.delivery_id).limit(limit))]  # fmt: skip
                secrets = {c.channel_id: c.secret for c in uow.session.scalars(
                    select(ChannelRow).where(ChannelRow.channel_id.in_({d[3] for d in due})))} if due else {}  # fmt: skip
            ok = failed = 0
            for delivery_id, kind, address, channel_id, payload, files in due:
                started = time.monotonic()
                try:
                    receipt = self._send(
                        kind, address, secrets.get(channel_id, ""), delivery_id, payload, files
                    )
                except channels.ChannelError as exc:
                    self._record(delivery_id, False, str(exc), time.monotonic() - started)
                    failed += 1
                    continue
                self._record(delivery_id, True, receipt, time.monotonic() - started)
                ok += 1
            return ok, failed

    def _send(self, kind: str, address: str, secret: str, delivery_id: str, payload: dict[str, Any],
              files: list[tuple[str, str, bytes]]) -> str:  # fmt: skip
        if kind == "email":
            s = self.smtp
            text = f"{payload.get('body', '')}\n\nOpen it in openem: {payload.get('link', '')}\n"
            if payload.get("sha256"):
                text += f"Pack SHA-256: {payload['sha256']}\n"
            return channels.send_email(s.host, s.port, s.sender, address, str(payload.get("title") or "openem"),
                                       text, attachments=files, timeout_s=s.timeout_s)  # fmt: skip
        return channels.send_webhook(address, secret, delivery_id, payload, timeout_s=self.smtp.timeout_s)

    def _record(self, delivery_id: str, ok: bool, detail: str, seconds: float) -> None:
        now = self.clock()
        with self.db.uow() as uow:
            row = uow.session.get(DeliveryRow, delivery_id)
            if row is None or row.status == "delivered":
                return
            uow.session.add(
                AttemptRow(delivery_id=delivery_id, at=now, ok=ok, detail=detail[:500], seconds=seconds)
            )
            row.attempts += 1
            if ok:
                row.status, row.delivered_at, row.receipt, row.last_error = "delivered", now, detail[:500], ""
                uow.add_event(MessageDelivered(
                    subject_kind=str(row.payload.get("subject_kind") or ""), subject_id=row.subject_id,
                    subject_version=row.subject_version, order_ref=str(row.payload.get("order_ref") or ""),
                    channel=row.kind, address=row.address, at=iso(now)))  # fmt: skip
            else:
                row.last_error, row.next_attempt_at = detail[:500], now + self.backoff.wait(row.attempts)
                log.warning(
                    "delivery failed; will try again",
                    extra={"delivery_id": delivery_id, "error": detail[:200]},
                )

    def drain(self) -> int:
        total = 0
        while True:
            ok, failed = self.run_once()
            total += ok
            if ok + failed == 0 or ok == 0:
                return total

    loop_name = "notify-deliverer"

    def step(self) -> None:
        self.drain()  # a failed step leaves the row pending
