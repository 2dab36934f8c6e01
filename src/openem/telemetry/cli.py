"""`openem gt06`: listen for GT06 trackers over TCP and store their frames (decision 0027)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("gt06", help="listen for GT06 trackers over TCP and store what they send")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=5023)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from openem.config import load_settings
    from openem.store.db import Database
    from openem.telemetry.gt06_server import serve, store_in

    db = Database(load_settings().database_url)

    async def main() -> None:
        server = await serve(args.host, args.port, store_in(db.sessions))
        print(f"openem gt06: listening on {args.host}:{args.port}", flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(main())
    finally:
        db.dispose()
    return 0
