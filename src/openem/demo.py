"""`openem demo`: migrate the embedded database, seed a user of each role (credentials printed once), start
the server, and stream a simulated fleet into it."""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

from openem.config import Settings


def run_demo(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from openem.platform_cli import seed_demo_users
    from openem.server import create_app
    from openem.store.db import Database
    from openem.store.migrate import upgrade

    if settings.production:
        print("error: the demo refuses to run with OPENEM_ENV=production")
        return 2
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    created = seed_demo_users(db)
    print("\nopenem demo — simulated data only\n")
    if created:
        print("Users created (passwords shown once; they are stored only as hashes):")
        for username, label, password in created:
            print(f"  {label:32} {username:34} {password}")
    else:
        print("Demo users already exist (see the first run's output, or add one: openem users add NAME --role ROLE)")
    print(f"\nOpen http://{args.host}:{args.port}/ and sign in.\n", flush=True)
    app = create_app(settings, db)
    args._live = app.state.live
    if not args.no_fleet:
        threading.Thread(target=_fleet, args=(settings, db, args), daemon=True, name="demo-fleet").start()
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    return 0


def _fleet(settings: Settings, db: Any, args: argparse.Namespace) -> None:
    """Generate a small world and stream it into the running server, if the simulator is available."""
    try:
        from openem.demo_fleet import stream_fleet
    except ImportError:
        return
    time.sleep(1.5)
    stream_fleet(settings, db, args)
