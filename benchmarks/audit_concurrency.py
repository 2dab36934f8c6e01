"""Parallel clients reading and writing personal data through the real app; counts server errors.

    PYTHONPATH=src python benchmarks/audit_concurrency.py --threads 8 --rounds 10 [--url postgresql://...]

Each client signs in as an order creator and, per round, creates an order, reads it and lists orders (three
audited requests). Prints one JSON line: requests, server errors, statuses, and whether the audit chain is
intact with one row per audited request. With no --url, a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OPENEM_ARGON2_PROFILE", "test")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "platform"))


def main() -> int:
    from concurrent_clients import AUDITED_OK, run_clients  # type: ignore[import-not-found]
    from sqlalchemy import func, select

    from openem.auth import audit
    from openem.auth.tables import AuditRow
    from openem.config import load_settings
    from openem.platform_cli import seed_demo_users
    from openem.server import create_app
    from openem.store.db import Database
    from openem.store.migrate import upgrade

    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--url", default=None, help="an empty database (default: a new SQLite file)")
    args = ap.parse_args()
    var = Path(tempfile.mkdtemp(prefix="openem-conc-"))
    url = args.url or f"sqlite:///{var / 'openem.db'}"
    upgrade(url)
    db = Database(url)
    passwords = {u: p for u, _, p in seed_demo_users(db)}
    settings = load_settings(
        {"OPENEM_DATABASE_URL": url, "OPENEM_VAR_DIR": str(var), "OPENEM_SECRET_KEY": "bench"}
    )
    app = create_app(settings, db, start_dispatcher=False)
    user = "demo-order-creator-court"
    statuses = run_clients(app, user, passwords[user], threads=args.threads, rounds=args.rounds)
    with db.uow() as uow:
        report = audit.verify_chain(uow.session)
        rows = uow.session.execute(
            select(func.count()).select_from(AuditRow).where(AuditRow.action.like("orders:%"))
        ).scalar_one()
    audited = sum(n for s, n in statuses.items() if s in AUDITED_OK)
    print(
        json.dumps(
            {
                "store": "sqlite" if db.is_sqlite else "postgresql",
                "threads": args.threads,
                "requests": sum(statuses.values()),
                "server_errors": sum(n for s, n in statuses.items() if s >= 500),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "chain_ok": report.ok,
                "audit_rows_match": rows == audited,
            }
        )
    )
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
