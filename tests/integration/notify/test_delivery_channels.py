"""A breach pack reaches the responsible team's inbox at once, and its email and webhook channels through
real servers; a channel that is down, failing, hanging or slow loses nothing: each attempt is a receipt, the
delivery is tried again later and arrives when the channel is back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from openem.breaches import queries as breach_queries
from openem.notify import queries
from openem.notify.service import Backoff, Deliverer, SmtpSettings, add_channel

from ..breaches.conftest import load, order_doc, pump, tamper
from .conftest import SECRET

TEAM = "police:WEST_YORKSHIRE"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _setup(db, channels):
    with db.uow() as uow:
        for kind, address, secret in channels:
            add_channel(uow, TEAM, kind, address, secret, actor="admin")
    load(db, order_doc("ORD-NTBAIL001", "PER-NT-1", "COURT_BAIL"))
    tamper(db, "ORD-NTBAIL001", "PER-NT-1")
    pump(db)
    with db.uow() as uow:
        (b,) = breach_queries.breaches_where(uow.session)
    return b


def _deliverer(db, port, clock, timeout_s=1.0):
    return Deliverer(
        db, SmtpSettings("127.0.0.1", port, "centre@openem.example", timeout_s), Backoff(5, 60), clock=clock
    )


def test_pack_reaches_inbox_email_with_pdf_and_signed_webhook(db, smtp, receiver):
    smtp.start()
    b = _setup(db, [("email", "duty.inspector@police.example", ""), ("webhook", receiver.url, SECRET)])
    clock = Clock()
    assert _deliverer(db, smtp.port, clock).run_once() == (2, 0)
    ((rcpt, mail),) = smtp.messages
    assert rcpt == ["duty.inspector@police.example"] and b["breach_id"] in mail["Subject"]
    parts = {p.get_content_type(): p for p in mail.walk()}
    pdf = parts["application/pdf"].get_payload(decode=True)
    assert (
        pdf.startswith(b"%PDF") and b["pack_sha256"] in parts["text/plain"].get_payload(decode=True).decode()
    )
    ((did, body, headers),) = receiver.accepted
    sent = json.loads(body)
    assert (
        sent["breach_id"] == b["breach_id"]
        and sent["sha256"] == b["pack_sha256"]
        and sent["pack"]["routing"]["agency"] == "police"
    )
    with db.uow() as uow:
        inbox = queries.inbox(uow.session, {TEAM})
        receipts = queries.deliveries(uow.session, b["breach_id"])
    assert [m["subject_id"] for m in inbox] == [b["breach_id"]]
    assert {d["kind"]: d["status"] for d in receipts} == {"email": "delivered", "webhook": "delivered"}
    assert all(len(d["receipts"]) == 1 and d["receipts"][0]["ok"] for d in receipts)
    assert "202" in next(d for d in receipts if d["kind"] == "webhook")["receipt"]
    # a replay of the very same request is refused by the receiver
    import httpx

    replay = httpx.post(
        receiver.url,
        content=body,
        headers={k: v for k, v in headers.items() if k.lower().startswith("x-openem")},
    )
    assert replay.status_code == 401 and "replay" in receiver.refused[-1]


def test_smtp_down_then_up_loses_nothing(db, smtp):
    b = _setup(db, [("email", "duty.inspector@police.example", "")])
    clock = Clock()
    d = _deliverer(db, smtp.port, clock)
    assert d.run_once() == (0, 1)  # nothing listening on the port
    assert d.run_once() == (0, 0)  # waiting out its backoff
    clock.now += timedelta(seconds=6)
    assert d.run_once() == (0, 1)
    smtp.start()
    assert d.run_once() == (0, 0)  # second backoff (10 s) not over yet
    clock.now += timedelta(seconds=11)
    assert d.run_once() == (1, 0)
    assert len(smtp.messages) == 1
    with db.uow() as uow:
        (rec,) = queries.deliveries(uow.session, b["breach_id"])
    assert rec["status"] == "delivered" and [r["ok"] for r in rec["receipts"]] == [False, False, True]
    assert "SMTP" in rec["receipts"][0]["detail"]
    assert d.run_once() == (0, 0) and len(smtp.messages) == 1  # delivered once


@pytest.mark.parametrize("mode", ["fail", "hang"])
def test_webhook_that_fails_or_hangs_is_retried_until_it_answers(db, receiver, mode):
    b = _setup(db, [("webhook", receiver.url, SECRET)])
    clock = Clock()
    d = _deliverer(db, 1, clock, timeout_s=0.5)
    receiver.mode = mode
    assert d.run_once() == (0, 1)
    with db.uow() as uow:
        (rec,) = queries.deliveries(uow.session, b["breach_id"])
    assert rec["status"] == "pending" and ("500" in rec["last_error"] or "Timeout" in rec["last_error"])
    receiver.mode = "slow"  # answers within the timeout
    clock.now += timedelta(seconds=6)
    assert d.run_once() == (1, 0)
    with db.uow() as uow:
        (rec,) = queries.deliveries(uow.session, b["breach_id"])
        breach = breach_queries.breach(uow.session, b["breach_id"])
    assert rec["status"] == "delivered" and rec["attempts"] == 2 and len(receiver.accepted) >= 1
    assert {a[0] for a in receiver.accepted} == {rec["delivery_id"]}  # the same delivery id on every try
    assert breach["delivered_at"] is not None


@pytest.mark.parametrize("kind,address,secret,err", [
    ("email", "not an address", "", "email"),
    ("email", "a@b.example\r\nBcc: x@evil.example", "", "email"),
    ("webhook", "file:///etc/passwd", SECRET, "http"),
    ("webhook", "http://127.0.0.1:1/x", "short", "secret"),
    ("sms", "07000", "", "kind"),
])  # fmt: skip
def test_bad_channels_are_refused(db, kind, address, secret, err):
    with db.uow() as uow, pytest.raises(ValueError, match=err):
        add_channel(uow, TEAM, kind, address, secret)
