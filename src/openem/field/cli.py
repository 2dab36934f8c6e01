"""`openem field ...`: solve a Solomon-format VRPTW instance (`vrptw`), plan a region's day with its officers
(`plan-day`), re-plan an officer's day, reminders, trainings, regions, postcodes."""

from __future__ import annotations

import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("field", help="field visits: route planning")
    sub = p.add_subparsers(dest="field_command", metavar="SUBCOMMAND")
    v = sub.add_parser("vrptw", help="solve a Solomon-format VRPTW instance (PyVRP) and print the routes")
    v.add_argument("path")
    v.add_argument("--seconds", type=float, default=10.0)
    v.add_argument("--json", action="store_true", help='one object {"vehicles", "distance", "routes"}')
    v.set_defaults(func=_vrptw)
    r = sub.add_parser(
        "remind", help="publish field.VisitReminderDue for booked visits whose reminder is due"
    )
    r.set_defaults(func=_remind)
    rp = sub.add_parser("replan", help="re-plan the rest of an officer's day, adding urgent visits")
    rp.add_argument("--officer", required=True)
    rp.add_argument("--day", required=True, help="YYYY-MM-DD")
    rp.add_argument("--add", action="append", default=[], metavar="VISIT_ID")
    rp.add_argument("--seconds", type=float, default=1.0)
    rp.set_defaults(func=_replan)
    sk = sub.add_parser(
        "skills", help="set an officer's trainings (on their record, audited): --skill ALCOHOL"
    )
    sk.add_argument("--officer", required=True)
    sk.add_argument(
        "--skill", action="append", default=[], metavar="TRAINING", help="repeat; none clears them"
    )
    sk.set_defaults(func=_skills)
    g = sub.add_parser(
        "geocode", help="look a postcode up (the address service if set, else offline Code-Point Open)"
    )
    g.add_argument("postcode")
    g.set_defaults(func=_geocode)
    pd = sub.add_parser(
        "plan-day", help="plan a region's day with its officers; print each route and what is left"
    )
    pd.add_argument("--region", required=True, help="a region of field/data/regions.json, e.g. SOUTH_WALES")
    pd.add_argument("--date", required=True, help="YYYY-MM-DD")
    pd.add_argument("--seconds", type=float, default=10.0)
    pd.set_defaults(func=_plan_day)
    og = sub.add_parser("officer", help="put an officer in a region (the depot their day starts from)")
    og.add_argument("--officer", required=True)
    og.add_argument("--region", required=True, help='a region code, or "" to take them out of every region')
    og.set_defaults(func=_officer_region)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _remind(args: Any) -> int:
    from openem.config import load_settings
    from openem.core.time import utcnow
    from openem.field.planning import due_reminders
    from openem.store.db import Database

    db = Database(load_settings().database_url)
    with db.uow() as uow:
        sent = due_reminders(uow.session, now=utcnow(), publish=uow.add_event)
    print(f"{len(sent)} reminders due")
    return 0


def _replan(args: Any) -> int:
    from openem.config import load_settings
    from openem.core.errors import Conflict, Invalid, NotFound
    from openem.core.time import utcnow
    from openem.field.planning import replan_day
    from openem.store.db import Database

    if not 0 < args.seconds <= 60:
        print("error: --seconds must be between 0 and 60", file=sys.stderr)
        return 2
    db = Database(load_settings().database_url)
    try:
        with db.uow() as uow:
            order, why = replan_day(uow.session, actor="cli", officer=args.officer[:80], day=args.day, now=utcnow(),
                                    reason="urgent work added" if args.add else "re-plan asked for",
                                    publish=uow.add_event, add=args.add, seconds=args.seconds)  # fmt: skip
    except (Invalid, Conflict, NotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for i, vid in enumerate(order, 1):
        print(f"{i}. {vid}")
    for vid, reason in sorted(why.items()):
        print(f"not planned: {vid}: {reason}")
    return 0


def _officer_record(change: Any) -> int:
    """Change an officer's record (`change(session, now) -> OfficerRow`), print it; a refusal says why."""
    from openem.config import load_settings
    from openem.core.errors import Invalid
    from openem.core.time import utcnow
    from openem.store.db import Database

    db = Database(load_settings().database_url)
    try:
        with db.uow() as uow:
            row = change(uow.session, utcnow())
            print(f"{row.officer}: {', '.join(row.skills) or 'no trainings'}; region {row.region or 'none'}")
    except Invalid as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _skills(args: Any) -> int:
    from openem.field.service import set_officer_skills

    skills = [k.strip().upper() for k in args.skill]
    return _officer_record(lambda session, now: set_officer_skills(
        session, actor="cli", officer=args.officer[:80], skills=skills, at=now))  # fmt: skip


def _plan_day(args: Any) -> int:
    from openem.config import load_settings
    from openem.core.errors import Invalid
    from openem.core.time import utcnow
    from openem.field.dayplan import plan_region_visits
    from openem.store.db import Database

    if not 0 < args.seconds <= 60:
        print("error: --seconds must be between 0 and 60", file=sys.stderr)
        return 2
    db = Database(load_settings().database_url)
    try:
        with db.uow() as uow:
            plan = plan_region_visits(uow.session, actor="cli", code=args.region, day=args.date, now=utcnow(),
                                      seconds=args.seconds, publish=uow.add_event)  # fmt: skip
    except Invalid as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    planned = sum(len(r) for o, r in plan.routes.items() if o not in {b for _, b in plan.crews})
    print(f"{plan.region.name} ({plan.region.depot_name}), {plan.day}: {len(plan.routes)} officers, "
          f"{planned} visits planned, {len(plan.unplanned)} not planned")  # fmt: skip
    for officer, route in plan.routes.items():
        partner = plan.partner_of(officer)
        print(f"{officer}{f' (with {partner})' if partner else ''}: {len(route)} visits")
        for i, vid in enumerate(route, 1):
            print(f"  {i}. {vid}")
    for vid, why in plan.unplanned:
        print(f"not planned: {vid}: {why}")
    return 0


def _officer_region(args: Any) -> int:
    from openem.field.dayplan import set_officer_region

    return _officer_record(lambda session, now: set_officer_region(
        session, actor="cli", officer=args.officer[:80], code=args.region, at=now))  # fmt: skip


def _geocode(args: Any) -> int:
    from openem.config import load_settings
    from openem.field.geocode import Located, configure_geocoder

    settings = load_settings()
    found = configure_geocoder(settings.address_service_url, key=settings.address_service_key,
                               timeout_s=settings.address_service_timeout_s).locate(args.postcode)  # fmt: skip
    if isinstance(found, Located):
        print(f"{found.postcode}: {found.lat:.6f}, {found.lon:.6f} ({found.source})")
        return 0
    print(f"error: {found.message}", file=sys.stderr)
    return 1


def _vrptw(args: Any) -> int:
    from openem.field.scheduler import check, parse_solomon, route_distance, solve_pyvrp

    if args.seconds <= 0 or args.seconds > 3600:
        print("error: --seconds must be between 0 and 3600", file=sys.stderr)
        return 2
    try:
        inst = parse_solomon(args.path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    routes = solve_pyvrp(inst, args.seconds)
    distance = round(sum(route_distance(inst, r) for r in routes), 2)
    problems = check(inst, routes)
    if args.json:
        print(json.dumps({"vehicles": len(routes), "distance": distance, "routes": routes}))
    else:
        print(f"{inst.name}: {len(routes)} vehicles, distance {distance}")
        for i, r in enumerate(routes, 1):
            print(f"  route {i}: {' '.join(map(str, r))}")
    for p in problems:
        print(f"infeasible: {p}", file=sys.stderr)
    return 1 if problems else 0
