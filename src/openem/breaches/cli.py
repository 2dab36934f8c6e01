"""`openem breaches pack ID --format pdf|html|json [--version N] [--out FILE]`, `openem breaches list`,
`openem breaches reminders` (send the reminders that are due)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("breaches", help="breaches: packs, routing, responses, reminders")
    sub = p.add_subparsers(dest="breaches_command", metavar="SUBCOMMAND")
    k = sub.add_parser("pack", help="write a breach pack (latest version unless --version)")
    k.add_argument("breach_id")
    k.add_argument("--format", choices=("pdf", "html", "json"), default="pdf")
    k.add_argument("--version", type=int, default=None)
    k.add_argument("--out", help="file to write (default: standard output)")
    k.set_defaults(func=_pack)
    ls = sub.add_parser("list", help="breaches, newest first, as JSON Lines")
    ls.add_argument("--agency")
    ls.set_defaults(func=_list)
    r = sub.add_parser("reminders", help="send the reminders and escalations that are due")
    r.set_defaults(func=_reminders)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _db() -> Any:
    from openem.config import load_settings
    from openem.store.db import Database

    return Database(load_settings().database_url)


def _pack(args: argparse.Namespace) -> int:
    from openem.auth import audit
    from openem.breaches.queries import pack_file

    db = _db()
    with db.uow() as uow:
        found = pack_file(uow.session, args.breach_id[:40], args.version, args.format)
        if found is None:
            print(f"error: no breach pack {args.breach_id[:40]}" + (f" version {args.version}" if args.version else ""),
                  file=sys.stderr)  # fmt: skip
            return 1
        data, _, sha = found
        audit.record(uow.session, actor="cli", action=f"breaches:{args.breach_id[:40]}:pack:export",
                     purpose="command-line export", details={"format": args.format, "sha256": sha})  # fmt: skip
    if args.out:
        with open(args.out, "wb") as fh:
            fh.write(data)
        print(f"{args.out}: sha256 {sha}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0


def _list(args: argparse.Namespace) -> int:
    from openem.breaches.queries import breaches_where

    with _db().uow() as uow:
        for b in breaches_where(uow.session, agency=args.agency):
            print(json.dumps({k: b[k] for k in ("breach_id", "incident_id", "person_id", "order_ref", "agency", "team",
                                                 "state", "confirmed_at", "pack_version", "pack_sha256")}, default=str))  # fmt: skip
    return 0


def _reminders(args: argparse.Namespace) -> int:
    from openem.breaches.service import run_reminders

    with _db().uow() as uow:
        sent = run_reminders(uow)
    for breach_id, level in sent:
        print(f"{breach_id}: {level}")
    return 0
