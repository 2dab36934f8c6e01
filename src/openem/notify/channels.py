"""Channels: email over SMTP and signed webhooks over HTTP. Each send returns a receipt (what the other side
answered) or raises ChannelError; a timeout, a refused connection or a non-2xx answer are all failures."""

from __future__ import annotations

import json
import smtplib
import time
from email.message import EmailMessage
from typing import Any

import httpx

from openem.notify.signing import sign


class ChannelError(Exception):
    pass


def send_email(host: str, port: int, sender: str, to: str, subject: str, text: str, html: str = "",
               attachments: list[tuple[str, str, bytes]] = (), timeout_s: float = 10.0) -> str:  # type: ignore[assignment]  # fmt: skip
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject.replace("\n", " ")[:300]
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, mime, data in attachments:
        main, sub = mime.split("/", 1)
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    try:
        with smtplib.SMTP(host, port, timeout=timeout_s) as smtp:
            refused = smtp.send_message(msg)
            code, reply = smtp.noop()
    except (OSError, smtplib.SMTPException) as exc:
        raise ChannelError(f"SMTP {host}:{port}: {type(exc).__name__}: {exc}"[:400]) from exc
    if refused:
        raise ChannelError(f"SMTP refused recipients: {sorted(refused)}"[:400])
    return f"SMTP accepted for {to} ({code} {reply.decode(errors='replace')[:60]})"


def send_webhook(url: str, secret: str, delivery_id: str, payload: dict[str, Any], timeout_s: float = 10.0,
                 client: httpx.Client | None = None) -> str:  # fmt: skip
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    headers = sign(secret, int(time.time()), delivery_id, body)
    try:
        if client is not None:
            resp = client.post(url, content=body, headers=headers, timeout=timeout_s)
        else:
            with httpx.Client(trust_env=False) as own:
                resp = own.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise ChannelError(f"webhook {url}: {type(exc).__name__}: {exc}"[:400]) from exc
    if not 200 <= resp.status_code < 300:
        raise ChannelError(f"webhook {url}: HTTP {resp.status_code} {resp.text[:100]}"[:400])
    return f"HTTP {resp.status_code} {resp.text[:100]}"
