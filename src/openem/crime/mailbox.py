"""The watched mailbox: crime files attached to mail in a Maildir folder (production: the hub's mailbox synced
to Maildir, or an IMAP folder through the same reader). Each message is taken once: moved to `cur/` when read;
each CSV attachment is ingested like an upload (source "mailbox", the sender recorded) and matched at once; a
message with no CSV attachment is recorded as a refused batch so the sender can be told."""

from __future__ import annotations

import mailbox
from email.message import Message
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from openem.crime import service
from openem.crime.model import policy


def attachments(msg: Message) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename() or ""
        ctype = part.get_content_type()
        if not name.lower().endswith(".csv") and ctype not in ("text/csv", "application/csv"):
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out.append((name[:200], payload))
    return out


def take_maildir(db: Any, folder: Path) -> list[dict[str, Any]]:
    """Ingest every new message's crime files; returns one summary per file (or per refused message)."""
    box = mailbox.Maildir(str(folder), factory=None, create=False)
    done: list[dict[str, Any]] = []
    for key in list(box.iterkeys()):
        msg = box.get_message(key)
        if msg.get_subdir() != "new":
            continue
        sender = parseaddr(str(msg.get("From", "")))[1][:200]
        files = attachments(msg)
        if not files:
            files = [("(no CSV attachment)", b"")]
        for name, data in files:
            data = data[: int(policy()["max_file_bytes"]) + 1]
            with db.uow() as uow:
                got = service.ingest(uow, "mailbox", data, filename=name, source="mailbox", sender=sender)
            if got.new_versions:
                with db.uow() as uow:
                    service.run_matching(uow, "mailbox", got.new_versions, batch_key=got.batch_key)
            done.append({"batch": got.batch_key, "file": name, "sender": sender, "outcome": got.outcome,
                         "accepted": len(got.parsed.crimes), "errors": len(got.parsed.row_errors)})  # fmt: skip
        msg.set_subdir("cur")
        msg.add_flag("S")
        box[key] = msg
    return done
