"""Platform sub-commands: serve, demo, worker, db upgrade, users add/token/unlock, audit verify/anchor/rotate-key,
bus parked/retry."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any

from openem.auth.roles import ROLE_LABELS, Role


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the web server (API, pages, ingest)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-migrate", action="store_true", help="do not upgrade the database first")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes sharing the port and ingest (default OPENEM_WEB_WORKERS or 1); more than one "
        "needs the engine in partition workers (OPENEM_BUS_URL=nats://..., OPENEM_ENGINE_PARTITIONS=N, "
        "`openem worker --engine`)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "demo", help="set up a demo: database, a user of each role, a simulated fleet, then serve"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--wearers", type=int, default=200)
    p.add_argument("--days", type=int, default=1)
    p.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated seconds per real second (the fleet starts in the past and runs at this speed "
        "until it catches up with the clock)",
    )
    p.add_argument("--no-fleet", action="store_true", help="do not stream the simulated fleet")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("worker", help="run a bus worker consuming events from NATS JetStream")
    p.add_argument("--nats", default=None, help="NATS URL (default OPENEM_BUS_URL)")
    p.add_argument(
        "--engine", action="store_true", help="run monitoring-engine partitions instead of event handlers"
    )
    p.add_argument("--partitions", type=int, default=int(os.environ.get("OPENEM_ENGINE_PARTITIONS", "8")))
    p.add_argument(
        "--lease", type=float, default=10.0, help="partition lease in seconds (takeover after a crash)"
    )
    p.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="seconds an order change may take to commit after it is stamped (engine workers wait that "
        "long behind the newest telemetry so a variation is applied before the data after it)",
    )
    p.add_argument("--prefix", default="openem", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database commands")
    dbs = db.add_subparsers(dest="db_command", metavar="ACTION")
    p = dbs.add_parser(
        "upgrade", help="apply migrations (SQLite by default, PostgreSQL with OPENEM_DATABASE_URL)"
    )
    p.set_defaults(func=cmd_db_upgrade)
    db.set_defaults(func=lambda a: (db.print_help(), 2)[1])

    users = sub.add_parser("users", help="user administration")
    us = users.add_subparsers(dest="users_command", metavar="ACTION")
    p = us.add_parser("add", help="add a user")
    p.add_argument("username")
    p.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    p.add_argument("--password", help="default: a random one, printed once")
    p.add_argument("--email", default="")
    p.add_argument("--organisation", default="")
    p.add_argument("--police-area", default="")
    p.add_argument("--restricted", action="store_true", help="may see restricted (specials) cases")
    p.set_defaults(func=cmd_users_add)
    p = us.add_parser("reset-password", help="give a user a new random password (printed once)")
    p.add_argument("username")
    p.add_argument("--password", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_users_reset_password)
    p = us.add_parser("token", help="issue an API token for a user or a telemetry gateway")
    p.add_argument("--user", help="username")
    p.add_argument("--gateway", help="name of a telemetry gateway (device-scoped token)")
    p.set_defaults(func=cmd_users_token)
    p = us.add_parser("unlock", help="lift a sign-in lockout (after too many wrong passwords); audited")
    p.add_argument("username")
    p.set_defaults(func=cmd_users_unlock)
    users.set_defaults(func=lambda a: (users.print_help(), 2)[1])

    tr = sub.add_parser("trail", help="the trail lake (position history as Parquet)")
    trs = tr.add_subparsers(dest="trail_command", metavar="ACTION")
    p = trs.add_parser("export", help="write a London day of trail points to Parquet (date=YYYY-MM-DD/)")
    p.add_argument("--date", required=True, help="YYYY-MM-DD (Europe/London day)")
    p.add_argument("--lake", default=None, help="lake directory (default var/lake)")
    p.set_defaults(func=cmd_trail_export)
    tr.set_defaults(func=lambda a: (tr.print_help(), 2)[1])

    au = sub.add_parser("audit", help="audit log")
    aus = au.add_subparsers(dest="audit_command", metavar="ACTION")
    p = aus.add_parser("verify", help="check the audit hash chain; exit 1 on a break")
    p.set_defaults(func=cmd_audit_verify)
    p = aus.add_parser(
        "anchor", help="verify, then write a signed anchor of the chain's head outside the database"
    )
    p.set_defaults(func=cmd_audit_anchor)
    p = aus.add_parser("rotate-key", help="add a new signing key (old keys are kept to verify older rows)")
    p.set_defaults(func=cmd_audit_rotate_key)
    au.set_defaults(func=lambda a: (au.print_help(), 2)[1])

    bus = sub.add_parser("bus", help="the message bus: messages parked after repeated failures")
    bs = bus.add_subparsers(dest="bus_command", metavar="ACTION")
    p = bs.add_parser("parked", help="list parked messages (topic, key, error, attempts, when)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_bus_parked)
    p = bs.add_parser("retry", help="re-queue parked messages (audited); the server's dispatcher sends them")
    p.add_argument(
        "ids", nargs="*", metavar="ID", help="message ids (MSG-...) as `openem bus parked` lists them"
    )
    p.add_argument("--all", action="store_true", help="every parked message")
    p.set_defaults(func=cmd_bus_retry)
    bus.set_defaults(func=lambda a: (bus.print_help(), 2)[1])


def _db() -> Any:
    from openem.config import load_settings
    from openem.store.db import Database

    return Database(load_settings().database_url)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from openem.config import load_settings
    from openem.store.migrate import upgrade

    url = load_settings().database_url
    upgrade(url)
    print(f"database at head: {url.split('@')[-1]}")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from openem.auth.service import create_user
    from openem.core.errors import OpenEMError

    password = args.password or secrets.token_urlsafe(12)
    db = _db()
    try:
        with db.uow() as uow:
            create_user(
                uow.session,
                actor="cli",
                username=args.username,
                password=password,
                roles=args.role,
                email=args.email,
                organisation=args.organisation,
                police_area=args.police_area,
                restricted=args.restricted,
            )
    except OpenEMError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(
        f"added {args.username} ({', '.join(args.role)})"
        + ("" if args.password else f" password: {password}")
    )
    return 0


def cmd_users_token(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from openem.auth.service import issue_token
    from openem.auth.tables import UserRow

    if bool(args.user) == bool(args.gateway):
        print("error: give exactly one of --user or --gateway", file=sys.stderr)
        return 2
    db = _db()
    with db.uow() as uow:
        user_id = None
        if args.user:
            u = uow.session.execute(
                select(UserRow).where(UserRow.username == args.user.lower())
            ).scalar_one_or_none()
            if u is None:
                print(f"error: no user {args.user}", file=sys.stderr)
                return 1
            user_id = u.id
        token = issue_token(
            uow.session,
            actor="cli",
            name=args.user or args.gateway,
            user_id=user_id,
            device_scope=args.gateway or "",
        )
    print(token)
    return 0


def cmd_trail_export(args: argparse.Namespace) -> int:
    from datetime import date
    from pathlib import Path

    from openem.config import load_settings
    from openem.store.lake import export_trail
    from openem.telemetry.tables import TrailPointRow

    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print("error: --date must be YYYY-MM-DD", file=sys.stderr)
        return 2
    settings = load_settings()
    lake = Path(args.lake) if args.lake else settings.var_dir / "lake"
    db = _db()
    with db.engine.connect() as conn:
        rows = export_trail(conn, TrailPointRow.__table__, lake, day)  # type: ignore[arg-type]
    print(f"{rows} trail points for {day} written to {lake}/date={day}/")
    return 0


def cmd_users_unlock(args: argparse.Namespace) -> int:
    from openem.auth.throttle import unlock_account

    db = _db()
    with db.uow() as uow:
        was_locked = unlock_account(uow.session, actor="cli", username=args.username)
    print(f"{args.username} {'unlocked' if was_locked else 'was not locked out (failures cleared)'}")
    return 0


def _report_json(report: Any) -> str:
    return json.dumps(
        {
            "ok": report.ok,
            "rows": report.rows,
            "first_bad_seq": report.first_bad_seq,
            "problem": report.problem,
            "anchored_seq": report.anchored_seq,
            "note": report.note,
        }
    )


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from openem.auth.audit import verify_chain
    from openem.auth.audit_keys import AuditKeyError

    db = _db()
    try:
        with db.uow() as uow:
            report = verify_chain(uow.session)
    except AuditKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(_report_json(report))
    return 0 if report.ok else 1


def cmd_bus_parked(args: argparse.Namespace) -> int:
    from openem.bus.parking import parked_messages

    db = _db()
    with db.uow() as uow:
        parked = parked_messages(uow.session)
    for m in parked:
        if args.json:
            print(
                json.dumps(
                    {
                        "id": m.message_id,
                        "topic": m.topic,
                        "key": m.key,
                        "error": m.error,
                        "attempts": m.attempts,
                        "parked_at": m.parked_at.isoformat(),
                        "held": m.held,
                    }
                )
            )
        else:
            held = f", {m.held} held behind it" if m.held else ""
            print(
                f"{m.message_id}  {m.topic}  {m.key}  {m.attempts} attempts, parked "
                f"{m.parked_at:%Y-%m-%d %H:%M:%S}Z{held}\n    {m.error.splitlines()[0] if m.error else ''}"
            )
    if not args.json:
        print(f"{len(parked)} parked message(s)", file=sys.stderr)
    return 0


def cmd_bus_retry(args: argparse.Namespace) -> int:
    from openem.auth import audit
    from openem.bus.parking import requeue

    if bool(args.ids) == bool(args.all):
        print("error: give message ids or --all (not both)", file=sys.stderr)
        return 2
    db = _db()
    with db.uow() as uow:
        done = requeue(uow.session, None if args.all else args.ids)
        if args.all:
            audit.record(uow.session, actor="cli", action="bus:parked:retry-all", records=done)
        for mid in [] if args.all else done:
            audit.record(uow.session, actor="cli", action=f"bus:{mid}:retry", records=[mid])
    missing = sorted(set(args.ids) - set(done))
    for mid in done:
        print(f"re-queued {mid}")
    for mid in missing:
        print(f"error: {mid} is not a parked message", file=sys.stderr)
    return 1 if missing else 0


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    from openem.auth.audit import verify_chain
    from openem.auth.audit_anchors import append, make_anchor
    from openem.auth.audit_trust import engine_of, trust_for

    db = _db()
    with db.uow() as uow:
        report = verify_chain(uow.session)
        trust = trust_for(engine_of(uow.session))
    if not report.ok:
        print(_report_json(report))
        print("error: the chain does not verify, so its head was not anchored", file=sys.stderr)
        return 1
    if report.rows:
        append(trust.anchors.paths, make_anchor(trust.keys, report.rows, report.head_hash))
    print(json.dumps({"anchored_seq": report.rows, "paths": [str(p) for p in trust.anchors.paths]}))
    return 0


def cmd_audit_rotate_key(args: argparse.Namespace) -> int:
    from openem.auth.audit_keys import new_key_id, rotate
    from openem.config import load_settings

    settings = load_settings()
    if settings.audit_key:
        key_id = new_key_id()
        print(
            "OPENEM_AUDIT_KEY is set, so keys are not kept in a file. Put this entry first in it, keep the "
            "old ones after it, and restart every openem process:",
            file=sys.stderr,
        )
        print(f"{key_id}:{secrets.token_urlsafe(32)}")
        return 0
    key_id = rotate(settings.audit_key_file)
    print(
        f"new signing key {key_id} in {settings.audit_key_file}; older keys kept. Restart every openem process."
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from openem.auth.audit_keys import AuditKeyError
    from openem.auth.audit_trust import require_keys
    from openem.config import load_settings
    from openem.server import create_app
    from openem.store.migrate import upgrade

    settings = load_settings()
    try:
        require_keys(settings)
    except AuditKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    workers = serve_workers(args.workers, settings)
    if isinstance(workers, str):
        print(f"error: {workers}", file=sys.stderr)
        return 2
    if not args.no_migrate:
        upgrade(settings.database_url)
    if workers > 1:  # each process builds its own app from the environment (engine in the partition workers)
        uvicorn.run("openem.server:create_app", factory=True, workers=workers, host=args.host, port=args.port,
                    log_config=None, access_log=False)  # fmt: skip
        return 0
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    return 0


def serve_workers(requested: int | None, settings: Any) -> int | str:
    """How many server processes to run, or why not. One process runs the engine itself; several cannot each
    hold the engine (each would see only the batches it took), so then the engine must be in the
    NATS-partitioned workers, which every process publishes to."""
    import os

    n = requested if requested is not None else int(os.environ.get("OPENEM_WEB_WORKERS", "1") or "1")
    if n < 1:
        return "--workers must be at least 1"
    if n > 1 and not (settings.engine_partitions and settings.bus_url.startswith("nats://")):
        return (f"{n} server processes need the monitoring engine in partition workers: set "
                "OPENEM_BUS_URL=nats://HOST:PORT and OPENEM_ENGINE_PARTITIONS=N, and run `openem worker --engine`")  # fmt: skip
    return n


DEMO_ORGS = {
    Role.ORDER_CREATOR_COURT: {"organisation": "LEEDS_MAGISTRATES_COURT"},
    Role.ORDER_CREATOR_PRISON: {"organisation": "LEEDS_PRISON"},
    Role.ORDER_CREATOR_PROBATION: {"organisation": "LEEDS"},
    Role.POLICE_OFFICER: {"police_area": "WEST_YORKSHIRE"},
    Role.FIELD_OFFICER: {"police_area": "WEST_YORKSHIRE", "organisation": "WEST_YORKSHIRE_FIELD_DEPOT"},
    Role.PROBATION_PRACTITIONER: {"email": "probation.demo@openem.example"},
    Role.YOUTH_JUSTICE_WORKER: {"email": "yjs.demo@openem.example", "organisation": "LEEDS"},
    Role.HOME_OFFICE_CASEWORKER: {"email": "homeoffice.demo@openem.example", "organisation": "HOME_OFFICE"},
}


def demo_username(role: Role) -> str:
    return "demo-" + role.value.replace("_", "-")


def seed_demo_users(
    db: Any, scopes: dict[str, dict[str, Any]] | None = None, *, one_off: bool = True
) -> list[tuple[str, str, str]]:
    """A user of each role with a random password (never a default), one-off unless `one_off=False` (a test
    that keeps the passwords to itself): it must be changed at the first sign-in. `scopes` (role ->
    organisation, force, email, caseload: `demo_fleet.demo_scopes`) fits them to a simulated world. Returns
    (username, role, password)."""
    from sqlalchemy import select

    from openem.auth.service import assign_case, create_user
    from openem.auth.tables import UserRow

    created = []
    with db.uow() as uow:
        for role in Role:
            username = demo_username(role)
            if uow.session.execute(select(UserRow).where(UserRow.username == username)).scalar_one_or_none():
                continue
            scope = {**DEMO_ORGS.get(role, {}), **(scopes or {}).get(role.value, {})}
            caseload = scope.pop("caseload", [])
            password = secrets.token_urlsafe(12)
            user = create_user(
                uow.session,
                actor="demo",
                username=username,
                password=password,
                roles=[role.value],
                display_name=ROLE_LABELS[role],
                restricted=role == Role.MC_OPERATOR,
                **scope,
            )
            user.must_change_password = one_off
            for ref in caseload:
                assign_case(uow.session, actor="demo", user_id=user.id, order_ref=ref)
            created.append((username, ROLE_LABELS[role], password))
    return created


def cmd_users_reset_password(args: argparse.Namespace) -> int:
    """A new random password for a user (shown once, stored only as a hash), to be changed at their next
    sign-in; their sessions end."""
    from sqlalchemy import select

    from openem.auth.tables import UserRow
    from openem.auth.users import reset_password

    db = _db()
    with db.uow() as uow:
        user = uow.session.execute(
            select(UserRow).where(UserRow.username == args.username.lower())
        ).scalar_one_or_none()
        if user is None:
            print(f"error: no user {args.username}", file=sys.stderr)
            return 1
        password = reset_password(uow.session, actor="cli", user_id=user.id, password=args.password)
    print(
        f"new password for {user.username}: {password}"
        if not args.password
        else f"password set for {user.username}"
    )
    print(f"{user.username} must choose a new password when they next sign in.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from openem.config import load_settings
    from openem.demo import run_demo

    return run_demo(load_settings(), args)


def cmd_worker(args: argparse.Namespace) -> int:
    import asyncio

    from openem.bus.dispatch import deliver_locally
    from openem.bus.nats import consume
    from openem.config import load_settings
    from openem.store.db import Database
    from openem.wiring import build_registry

    settings = load_settings()
    url = args.nats or settings.bus_url
    if not url.startswith("nats://"):
        print("error: give --nats nats://HOST:PORT or set OPENEM_BUS_URL", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    if args.engine:
        import signal

        from openem.scale.worker import run_engine_worker

        async def main() -> None:
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            print(f"engine worker: {args.partitions} partitions from {url}", flush=True)
            stats = await run_engine_worker(
                db,
                url,
                args.partitions,
                prefix=args.prefix,
                lease_s=args.lease,
                stop=stop,
                settle_s=args.settle,
                report=lambda line: print(line, flush=True),
            )
            print(json.dumps(stats), flush=True)

        asyncio.run(main())
        return 0
    from functools import partial

    from openem.bus.parking import park_consumed

    registry = build_registry()
    print(f"worker consuming from {url}", flush=True)

    def handle(topic: str, mid: str, payload: dict[str, Any]) -> None:
        deliver_locally(db, registry, topic, mid, payload)

    asyncio.run(consume(url, handle, park=partial(park_consumed, db)))
    return 0
