"""`openem crime ingest FILE`, `openem crime match --crimes FILE (--world DIR | --lake DIR) --out DIR` and
`openem crime watch --maildir DIR`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("crime", help="acquisitive crime matching: intake of force batches, matching")
    sub = p.add_subparsers(dest="crime_command", metavar="SUBCOMMAND")
    i = sub.add_parser("ingest", help="check a force's crime file and keep its crimes (exit 0 ok, 1 some rows "
                       "refused, 2 the file refused)")  # fmt: skip
    i.add_argument("file")
    i.add_argument("--check", action="store_true", help="only check the file; store nothing")
    i.add_argument("--no-match", action="store_true", help="do not match the new crimes at once")
    i.set_defaults(func=_ingest)
    m = sub.add_parser("match", help="match a crime file against a simulated world's or the lake's trails")
    m.add_argument("--crimes", required=True)
    src = m.add_mutually_exclusive_group(required=True)
    src.add_argument("--world", help="a simulated world folder (openem sim generate)")
    src.add_argument("--lake", help="the Parquet trail lake (openem trail export)")
    m.add_argument("--out", required=True)
    m.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="duckdb (in this process) or spark (a PySpark job over the lake; pip install openem[spark])",
    )
    m.add_argument("--spark-master", help="Spark master URL (default OPENEM_SPARK_MASTER, else local[2])")
    m.set_defaults(func=_match)
    w = sub.add_parser("watch", help="take crime files attached to mail in a Maildir folder")
    w.add_argument("--maildir", required=True)
    w.add_argument("--once", action="store_true", help="read what is there and stop")
    w.add_argument("--interval", type=float, default=30.0)
    w.set_defaults(func=_watch)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _refusals(parsed: Any) -> None:
    for e in parsed.file_errors:
        print(json.dumps({"row": None, "error_type": e.type, "field": None, "value": e.message,
                          "action": e.action}))  # fmt: skip
    for e in parsed.row_errors:
        print(json.dumps({"row": e.row, "error_type": e.type, "field": e.field, "value": e.value,
                          "action": e.action}))  # fmt: skip


def _read(path: str) -> bytes | None:
    from openem.crime.model import policy

    p = Path(path)
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:  # never read more than one byte past the limit
            return fh.read(min(size, int(policy()["max_file_bytes"]) + 1))
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _ingest(args: argparse.Namespace) -> int:
    data = _read(args.file)
    if data is None:
        return 2
    if args.check:
        from openem.crime.rules import parse_file

        parsed = parse_file(data)
        _refusals(parsed)
        print(
            f"{parsed.outcome}: {len(parsed.crimes)} accepted, {len(parsed.row_errors)} errors",
            file=sys.stderr,
        )
        return {"successful": 0, "partial": 1}.get(parsed.outcome, 2)
    from openem.config import load_settings
    from openem.crime import service
    from openem.store.db import Database

    db = Database(load_settings().database_url)
    with db.uow() as uow:
        done = service.ingest(uow, "cli", data, filename=Path(args.file).name[:200], source="cli")
    if done.new_versions and not args.no_match:
        with db.uow() as uow:
            service.run_matching(uow, "cli", done.new_versions, batch_key=done.batch_key, trigger="automatic")
    _refusals(done.parsed)
    print(f"batch {done.batch_key}: {done.outcome}, {len(done.parsed.crimes)} accepted, "
          f"{len(done.new_versions)} new versions, {done.duplicates} duplicates, "
          f"{len(done.parsed.row_errors)} errors", file=sys.stderr)  # fmt: skip
    return done.exit_code


def _match(args: argparse.Namespace) -> int:
    from openem.crime.offline import match_file

    data = _read(args.crimes)
    if data is None:
        return 2
    try:
        summary = match_file(data, Path(args.out), world=args.world, lake=args.lake,
                             engine=args.engine, spark_master=args.spark_master)  # fmt: skip
    except (FileNotFoundError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0 if summary["outcome"] != "failed" else 2


def _watch(args: argparse.Namespace) -> int:
    import time

    from openem.config import load_settings
    from openem.crime.mailbox import take_maildir
    from openem.store.db import Database

    db = Database(load_settings().database_url)
    while True:
        for line in take_maildir(db, Path(args.maildir)):
            print(json.dumps(line))
        if args.once:
            return 0
        time.sleep(max(1.0, args.interval))
