"""`openem demo`: migrate the embedded database, load a simulated world, seed a user of each role fitted to it
(one-off passwords written to a file under var/, mode 0600), start the server, and stream the fleet into it.
The terminal stays quiet: logs go to var/log/openem.log (warnings also to the terminal) and one progress line
says what the fleet has sent and what the engine has raised."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openem.config import Settings

PASSWORDS_FILE = "demo-users.txt"


def run_demo(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from openem.server import create_app
    from openem.store.db import Database
    from openem.store.migrate import upgrade

    if settings.production:
        print("error: the demo refuses to run with OPENEM_ENV=production")
        return 2
    log_file = quiet_logs(settings.var_dir)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    print("\nopenem demo — simulated data only\n", flush=True)
    fleet = None if args.no_fleet else prepare_fleet(db, args)
    say_users(settings.var_dir, seed_users(db, fleet))
    print(f"Logs: {log_file}\nOpen http://{args.host}:{args.port}/ and sign in.\n", flush=True)
    app = create_app(settings, db)
    if fleet is not None:
        threading.Thread(
            target=_fleet, args=(settings, app, args, fleet), daemon=True, name="demo-fleet"
        ).start()
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False, log_level="warning")
    return 0


def quiet_logs(var_dir: Path) -> Path:
    """JSON logs to var/log/openem.log; only warnings and errors on the terminal."""
    from openem.web.logging import JsonFormatter

    path = var_dir / "log" / "openem.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(JsonFormatter())
    to_terminal = logging.StreamHandler(sys.stderr)
    to_terminal.setLevel(logging.WARNING)
    to_terminal.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [to_file, to_terminal]
    root.setLevel(logging.INFO)
    return path


def prepare_fleet(db: Any, args: argparse.Namespace) -> dict[str, Any]:
    from openem.demo_fleet import demo_start, demo_world, load_world_into

    now = datetime.now(UTC)
    print(f"Simulating {args.wearers} wearers from yesterday 07:00 ...", flush=True)
    world = demo_world(now, args.wearers, args.days)
    counts, token = load_world_into(db, world, now)
    start = demo_start(world, now, args.speed)
    print(
        f"Fleet loaded: {counts['orders_active']} active orders, {counts['orders_with_errors']} drafts with "
        f"errors, {counts['activations']} devices fitted.",
        flush=True,
    )
    return {"world": world, "token": token, "start": start, "speed": args.speed}


def seed_users(db: Any, fleet: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    from openem.platform_cli import seed_demo_users

    if fleet is None:
        return seed_demo_users(db)
    from openem.demo_fleet import demo_scopes

    until = fleet["start"] + timedelta(seconds=max(fleet["speed"], 1.0) * 600)  # the demo's first ten minutes
    return seed_demo_users(db, demo_scopes(fleet["world"], until))


def say_users(var_dir: Path, created: list[tuple[str, str, str]]) -> Path:
    """Write new users' one-off passwords to var/demo-users.txt (mode 0600) and say where they are."""
    path = var_dir / PASSWORDS_FILE
    if created:
        var_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "# openem demo users: one-off passwords, stored by openem only as hashes. Delete when read.",
            *(f"{label:32} {username:34} {password}" for username, label, password in created),
        ]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
        print(f"{len(created)} demo users created: their passwords are in {path} (readable only by you).")
    elif path.exists():
        print(f"The demo users already exist: their passwords are in {path}.")
    else:
        print(
            f"The demo users already exist, and {path} (their passwords) is gone. Give one a new password with\n"
            "  openem users reset-password demo-mc-operator"
        )
    return path


def _fleet(settings: Settings, app: Any, args: argparse.Namespace, fleet: dict[str, Any]) -> None:
    """Wait for the server, then stream the fleet into it with a progress line on the terminal."""
    import httpx

    from openem.demo_fleet import FleetProgress, stream_fleet

    url = f"http://{args.host}:{args.port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/health", timeout=2).status_code < 600:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    progress = FleetProgress()
    threading.Thread(
        target=_progress_line, args=(app, progress, args.speed), daemon=True, name="demo-progress"
    ).start()
    try:
        stream_fleet(settings, url, fleet["token"], fleet["world"], fleet["start"], args.speed, progress)
    except Exception:  # noqa: BLE001 - the server keeps serving what it has
        logging.getLogger("openem.demo").exception("the simulated fleet stopped")


def _progress_line(app: Any, progress: Any, speed: float) -> None:
    """One line, rewritten in place on a terminal (a new line every 30 s otherwise)."""
    tty = sys.stdout.isatty()
    last = 0.0
    while not progress.finished:
        time.sleep(1.0)
        live = app.state.live
        if progress.start is None:
            continue
        phase = "live" if progress.live else f"backlog of {progress.backlog:,}"
        line = (
            f"Fleet: {progress.sent:,} messages sent ({phase}, simulated clock from "
            f"{progress.start:%d %b %H:%M} UTC at {speed:g}x); engine: {live.messages:,} processed, "
            f"{live.alerts:,} alerts raised"
        )
        if tty:
            print("\r" + line[:200].ljust(120), end="", flush=True)
        elif time.monotonic() - last >= 30:
            print(line, flush=True)
            last = time.monotonic()
