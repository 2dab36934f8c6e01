"""The `openem` command. Each capability adds its sub-commands through a `register(subparsers)` function
in its own `cli.py`; this file only wires them together (no work at import time)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from openem import __version__

# Capability command modules, in the order they appear in `openem --help`.
COMMAND_MODULES = [
    "openem.platform_cli",
    "openem.sim.cli",
    "openem.orders.cli",
    "openem.monitoring.cli",
    "openem.telemetry.cli",
    "openem.alerts.cli",
    "openem.field.cli",
    "openem.crime.cli",
    "openem.breaches.cli",
    "openem.devices.cli",
]

#: Steps `openem triage replay` runs after triage ("module:function(context)"): the composition joins the
#: capabilities, so alerts never imports breaches.
REPLAY_STEPS = ["openem.breaches.replay:after_triage"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openem", description="openem: electronic monitoring platform")
    parser.add_argument("--version", action="version", version=f"openem {__version__}")
    parser.set_defaults(replay_steps=REPLAY_STEPS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a capability not built yet must not break the others
            if exc.name and name.startswith(exc.name):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        result = func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a database that is missing or not migrated gets a plain answer, not a trace
        from sqlalchemy.exc import OperationalError, ProgrammingError

        if isinstance(exc, OperationalError | ProgrammingError):
            print(
                f"error: the database is not reachable or not set up ({type(exc.orig).__name__}); "
                "check OPENEM_DATABASE_URL and run `openem db upgrade`",
                file=sys.stderr,
            )
            return 1
        raise
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
