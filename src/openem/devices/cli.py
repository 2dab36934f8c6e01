"""`openem devices enrol DEVICE_ID --kind NFD|VICTIM` (a phone's ingest URL, its last line of output),
`openem devices revoke-enrolment DEVICE_ID` and `openem devices enrolments DEVICE_ID` (decision 0033);
`openem devices transfer --from A --to B SERIAL...` and `openem devices receive-transfer ID` (stock between depots)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def register(subparsers: Any) -> None:
    devices = subparsers.add_parser("devices", help="devices: enrol phones (Traccar Client) and revoke them")
    sub = devices.add_subparsers(dest="devices_command", metavar="ACTION")
    e = sub.add_parser(
        "enrol",
        help="enrol a phone as a device; prints the URL to paste into Traccar Client (the last line, alone)",
    )
    e.add_argument("device_id", metavar="DEVICE_ID")
    e.add_argument("--kind", required=True, choices=["NFD", "VICTIM"])
    e.add_argument(
        "--base-url",
        default=None,
        help=f"the server as the phone reaches it (default: OPENEM_PUBLIC_URL or {DEFAULT_BASE_URL})",
    )
    e.add_argument(
        "--replace", action="store_true", help="revoke the device's live enrolment and make a new one"
    )
    e.set_defaults(func=cmd_enrol)
    r = sub.add_parser("revoke-enrolment", help="revoke a device's enrolment: its phone's URL stops working")
    r.add_argument("device_id", metavar="DEVICE_ID")
    r.add_argument("--reason", default="")
    r.set_defaults(func=cmd_revoke)
    ls = sub.add_parser("enrolments", help="a device's enrolments (when, by whom, revoked or live)")
    ls.add_argument("device_id", metavar="DEVICE_ID")
    ls.set_defaults(func=cmd_list)
    t = sub.add_parser(
        "transfer", help="send devices in stock at one depot to another (in transit until received)"
    )
    t.add_argument("serials", nargs="+", metavar="SERIAL")
    t.add_argument("--from", dest="from_depot", required=True)
    t.add_argument("--to", dest="to_depot", required=True)
    t.set_defaults(func=cmd_transfer)
    rt = sub.add_parser("receive-transfer", help="the devices of a transfer arrive: in stock at its depot")
    rt.add_argument("transfer_id", metavar="TRANSFER_ID")
    rt.set_defaults(func=cmd_receive_transfer)
    devices.set_defaults(func=lambda _a: (devices.print_help(), 2)[1])


def _db() -> Any:
    from openem.config import load_settings
    from openem.store.db import Database

    return Database(load_settings().database_url)


def cmd_enrol(args: argparse.Namespace) -> int:
    from openem.core.errors import OpenEMError
    from openem.core.time import utcnow
    from openem.devices.model import enrolment_url
    from openem.devices.service import enrol_phone

    base = args.base_url or os.environ.get("OPENEM_PUBLIC_URL") or DEFAULT_BASE_URL
    if not base.startswith(("http://", "https://")):
        print("error: --base-url must start with http:// or https://", file=sys.stderr)
        return 2
    db = _db()
    try:
        with db.uow() as uow:
            token = enrol_phone(uow.session, actor="cli", device_id=args.device_id, kind=args.kind,
                                at=utcnow(), replace=args.replace)  # fmt: skip
    except OpenEMError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"Enrolled {args.device_id} as {args.kind}. In Traccar Client set the device identifier to "
          f"{args.device_id} and the server URL to the line below (shown once; openem keeps only its hash).")  # fmt: skip
    print(enrolment_url(base, token))
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from openem.core.time import utcnow
    from openem.devices.service import revoke_enrolment

    db = _db()
    try:
        with db.uow() as uow:
            n = revoke_enrolment(
                uow.session, actor="cli", device_id=args.device_id, at=utcnow(), reason=args.reason
            )
    finally:
        db.dispose()
    if n == 0:
        print(f"{args.device_id} had no live enrolment", file=sys.stderr)
        return 1
    print(f"Revoked {n} enrolment(s) of {args.device_id}: its phone's URL is refused from now on")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from openem.devices.queries import enrolments_of

    db = _db()
    try:
        with db.sessions() as s:
            rows = enrolments_of(s, args.device_id)
    finally:
        db.dispose()
    for r in rows:
        state = f"revoked {r['revoked_at'].isoformat()} by {r['revoked_by']}" if r["revoked_at"] else "live"
        print(
            f"{r['device_id']}\t{r['kind']}\tenrolled {r['created_at'].isoformat()} by {r['created_by']}\t{state}"
        )
    if not rows:
        print(f"{args.device_id} has never been enrolled", file=sys.stderr)
        return 1
    return 0


def _stock_move(work: Any) -> int:
    """Run `work(session) -> line to print` in one transaction; refusals printed with why (exit 2)."""
    from openem.core.errors import OpenEMError

    db = _db()
    try:
        with db.uow() as uow:
            print(work(uow.session))
    except OpenEMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return 0


def cmd_transfer(args: argparse.Namespace) -> int:
    from openem.core.time import utcnow
    from openem.devices.service import send_transfer

    def work(session: Any) -> str:
        row = send_transfer(session, actor="cli", from_depot=args.from_depot, to_depot=args.to_depot,
                            device_ids=args.serials, at=utcnow())  # fmt: skip
        return f"{row.transfer_id}: {len(row.devices)} devices from {row.from_depot} to {row.to_depot}, in transit"

    return _stock_move(work)


def cmd_receive_transfer(args: argparse.Namespace) -> int:
    from openem.core.time import utcnow
    from openem.devices.service import receive_transfer

    def work(session: Any) -> str:
        row = receive_transfer(session, actor="cli", transfer_id=args.transfer_id, at=utcnow())
        return f"{row.transfer_id}: received at {row.to_depot} ({len(row.devices)} devices)"

    return _stock_move(work)
