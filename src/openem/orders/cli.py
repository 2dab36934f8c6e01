"""`openem orders validate PATH` and `openem orders schema`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any, TextIO

from openem.core.time import parse_instant, utcnow
from openem.orders.cemo import CemoImportError, import_cemo
from openem.orders.fms import fms_payloads
from openem.orders.rules import validate_order
from openem.orders.schema import order_json_schema

MAX_INPUT_BYTES = 512 * 1024 * 1024


def register(subparsers: Any) -> None:
    orders = subparsers.add_parser(
        "orders", help="EM orders: validate documents, print the JSON Schema, CEMO in, supplier out"
    )
    sub = orders.add_subparsers(dest="orders_command", metavar="ACTION")
    v = sub.add_parser("validate", help="validate one order (JSON) or many (JSON Lines); '-' reads stdin")
    v.add_argument("path")
    v.add_argument("--now", help="validate as at this ISO 8601 instant (default: now)")
    v.set_defaults(func=cmd_validate)
    s = sub.add_parser("schema", help="print the order JSON Schema")
    s.set_defaults(func=cmd_schema)
    c = sub.add_parser(
        "import-cemo",
        help="map an order in CEMO's API JSON shape to an openem order; prints the order, a mapping report "
        "and what it still lacks",
    )
    c.add_argument("path", help="a CEMO order (JSON); '-' reads stdin")
    c.add_argument("--out", help="also write the openem order document to this file")
    c.add_argument("--now", help="validate as at this ISO 8601 instant (default: now)")
    c.set_defaults(func=cmd_import_cemo)
    f = sub.add_parser(
        "export-fms",
        help="an openem order document as the supplier payloads CEMO sends (device wearer, order)",
    )
    f.add_argument("path", help="an openem order document (JSON); '-' reads stdin")
    f.add_argument("--case-id", default="", help="the supplier's device wearer id, once it has one")
    f.add_argument("--now", help="export as at this ISO 8601 instant (default: now)")
    f.set_defaults(func=cmd_export_fms)
    e = sub.add_parser("export", help="a stored order in another format: --format fms (audited read)")
    e.add_argument("ref")
    e.add_argument("--format", choices=["fms"], default="fms")
    e.add_argument("--actor", default="cli", help="who is reading, for the audit log")
    e.add_argument("--purpose", required=True, help="why, for the audit log")
    e.add_argument("--case-id", default="")
    e.set_defaults(func=cmd_export)
    orders.set_defaults(func=lambda args: (orders.print_help(), 2)[1])


def _documents(text: str) -> list[tuple[Any, str | None]]:
    """(document, parse error) pairs: the whole text as one JSON value, else one per non-blank line."""
    try:
        return [(json.loads(text), None)]
    except (json.JSONDecodeError, RecursionError):
        pass
    out: list[tuple[Any, str | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((json.loads(line), None))
        except (json.JSONDecodeError, RecursionError):
            out.append((None, f"Line {number} is not valid JSON"))
    return out


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.buffer.read(MAX_INPUT_BYTES).decode("utf-8-sig")
    with open(path, "rb") as fh:
        return fh.read(MAX_INPUT_BYTES).decode("utf-8-sig")


def validate_text(text: str, now: datetime, out: TextIO) -> int:
    """Print one result line per document; 0 all valid, 1 any invalid."""
    status = 0
    documents = _documents(text)
    if not documents:
        return 2
    for doc, problem in documents:
        ref = doc.get("ref") if isinstance(doc, dict) and isinstance(doc.get("ref"), str) else None
        if problem is not None:
            errors = [{"code": "invalid_json", "field": "", "message": problem}]
        else:
            errors = [e.to_dict() for e in validate_order(doc, now=now)]
        status = max(status, 1 if errors else 0)
        out.write(json.dumps({"ref": ref, "valid": not errors, "errors": errors}, ensure_ascii=False) + "\n")
    return status


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        now = parse_instant(args.now) if args.now else utcnow()
    except ValueError:
        print("--now must be an ISO 8601 instant with a timezone, like 2026-11-22T12:00:00Z", file=sys.stderr)
        return 2
    try:
        text = _read(args.path)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {args.path}: {exc.__class__.__name__}", file=sys.stderr)
        return 2
    status = validate_text(text, now, sys.stdout)
    if status == 2:
        print(f"{args.path} holds no orders", file=sys.stderr)
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    json.dump(order_json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _now(raw: str | None) -> datetime | None:
    try:
        return parse_instant(raw) if raw else utcnow()
    except ValueError:
        print("--now must be an ISO 8601 instant with a timezone, like 2026-11-22T12:00:00Z", file=sys.stderr)
        return None


def _read_json(path: str) -> tuple[Any, int]:
    try:
        text = _read(path)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {path}: {exc.__class__.__name__}", file=sys.stderr)
        return None, 2
    try:
        return json.loads(text), 0
    except (json.JSONDecodeError, RecursionError):
        print(f"{path} is not valid JSON", file=sys.stderr)
        return None, 2


def cmd_import_cemo(args: argparse.Namespace) -> int:
    """0: imported and valid; 1: imported, still lacks something (listed); 2: not a CEMO order."""
    now = _now(args.now)
    if now is None:
        return 2
    data, status = _read_json(args.path)
    if status:
        return status
    try:
        document, report = import_cemo(data, now)
    except CemoImportError as exc:
        print(f"{args.path}: {exc}", file=sys.stderr)
        return 2
    errors = [e.to_dict() for e in validate_order(document, now=now)]
    out = {"document": document, "mapping": report.to_dict(), "valid": not errors, "errors": errors}
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=2, ensure_ascii=False)
    return 1 if errors else 0


def cmd_export_fms(args: argparse.Namespace) -> int:
    now = _now(args.now)
    if now is None:
        return 2
    doc, status = _read_json(args.path)
    if status:
        return status
    if not isinstance(doc, dict):
        print(f"{args.path} is not an order document (a JSON object)", file=sys.stderr)
        return 2
    json.dump(fms_payloads(doc, now, args.case_id[:100]), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from openem.config import load_settings
    from openem.orders.repository import SqlOrderRepository
    from openem.store.db import Database

    db = Database(load_settings().database_url)
    try:
        with db.uow() as uow:
            record = SqlOrderRepository(uow.session).get(args.ref[:40])
            if record is None:
                print(f"There is no order {args.ref[:40]}", file=sys.stderr)
                return 2
            uow.add_audit(
                actor=args.actor[:100],
                action=f"orders:{record.ref}:read",
                records=[record.ref],
                purpose=args.purpose[:500],
            )
            payloads = fms_payloads(record.latest.document, utcnow(), args.case_id[:100])
    finally:
        db.dispose()
    json.dump({"ref": record.ref} | payloads, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
