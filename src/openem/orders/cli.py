"""`openem orders validate PATH` and `openem orders schema`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any, TextIO

from openem.core.time import parse_instant, utcnow
from openem.orders.rules import validate_order
from openem.orders.schema import order_json_schema

MAX_INPUT_BYTES = 512 * 1024 * 1024


def register(subparsers: Any) -> None:
    orders = subparsers.add_parser("orders", help="EM orders: validate documents, print the JSON Schema")
    sub = orders.add_subparsers(dest="orders_command", metavar="ACTION")
    v = sub.add_parser("validate", help="validate one order (JSON) or many (JSON Lines); '-' reads stdin")
    v.add_argument("path")
    v.add_argument("--now", help="validate as at this ISO 8601 instant (default: now)")
    v.set_defaults(func=cmd_validate)
    s = sub.add_parser("schema", help="print the order JSON Schema")
    s.set_defaults(func=cmd_schema)
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
