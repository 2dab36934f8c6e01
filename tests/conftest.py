"""Shared fixtures: databases (SQLite file and a real PostgreSQL), the app, signed-in clients."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("OPENEM_ARGON2_PROFILE", "test")

PG_URL = os.environ.get("OPENEM_TEST_PG_URL")
PG_ADMIN_URL = os.environ.get("OPENEM_TEST_PG_ADMIN_URL")
IN_CI = bool(os.environ.get("CI"))


def _pg_required() -> None:
    if not PG_URL:
        if IN_CI:
            pytest.fail("OPENEM_TEST_PG_URL is not set: run the suite with scripts/test.sh")
        pytest.skip("no PostgreSQL: run the suite with scripts/test.sh")


_templates: dict[str, str] = {}


def _pg_database() -> str:
    """A fresh PostgreSQL database, copied from a migrated template made once per test process."""
    import sqlalchemy as sa

    from openem.store.migrate import upgrade

    assert PG_ADMIN_URL and PG_URL
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    base = PG_URL.rsplit("/", 1)[0]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    tmpl = f"openem_tmpl_{worker}"
    with admin.connect() as c:
        if tmpl not in _templates:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{tmpl}"'))
            c.execute(sa.text(f'CREATE DATABASE "{tmpl}"'))
            upgrade(f"{base}/{tmpl}")
            e = sa.create_engine(f"{base}/{tmpl}")
            e.dispose()
            _templates[tmpl] = tmpl
        name = f"t_{uuid.uuid4().hex[:12]}"
        c.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"'))
    admin.dispose()
    return f"{base}/{name}"


def _drop_pg(url: str) -> None:
    import sqlalchemy as sa

    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_ADMIN_URL or "", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite and a real PostgreSQL server."""
    if request.param == "sqlite":
        yield _sqlite_copy(tmp_path)
    else:
        _pg_required()
        url = _pg_database()
        yield url
        _drop_pg(url)


_sqlite_template: list[Path] = []


def _sqlite_copy(tmp_path: Path) -> str:
    """A migrated SQLite file, copied from one migrated once per test process."""
    import shutil
    import tempfile

    from openem.store.migrate import upgrade

    if not _sqlite_template:
        path = Path(tempfile.mkdtemp(prefix="openem-tmpl-")) / "template.db"
        upgrade(f"sqlite:///{path}")
        _sqlite_template.append(path)
    target = tmp_path / "openem.db"
    shutil.copyfile(_sqlite_template[0], target)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return _sqlite_copy(tmp_path)


@pytest.fixture
def db(db_url: str) -> Iterator[Any]:
    from openem.store.db import Database

    database = Database(db_url)
    yield database
    database.dispose()


def make_settings(tmp_path: Path, db_url: str, **overrides: Any) -> Any:
    from openem.config import load_settings

    env = {
        "OPENEM_VAR_DIR": str(tmp_path / "var"),
        "OPENEM_DATABASE_URL": db_url,
        "OPENEM_SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
    }
    env.update({k: str(v) for k, v in overrides.items()})
    return load_settings(env)


@dataclass
class World:
    app: Any
    db: Any
    passwords: dict[str, str]

    def client(self) -> Any:
        from fastapi.testclient import TestClient

        return TestClient(self.app, follow_redirects=True)

    def signed_in(self, username: str) -> Any:
        c = self.client()
        sign_in(c, username, self.passwords[username])
        return c


def sign_in(client: Any, username: str, password: str) -> Any:
    page = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    resp = client.post(
        "/sign-in", data={"username": username, "password": password, "csrf_token": token, "next": "/"}
    )
    return resp


def choose_password(client: Any, page: Any, new_password: str) -> Any:
    """On the "Choose a new password" page a one-off password leads to, choose `new_password`."""
    assert page.url.path == "/change-password", page.text[:500]
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    nxt = re.search(r'name="next" value="([^"]*)"', page.text).group(1)
    return client.post(
        "/change-password",
        data={"password": new_password, "confirm": new_password, "csrf_token": token, "next": nxt},
    )


@pytest.fixture
def world(db: Any, db_url: str, tmp_path: Path) -> World:
    """The app on the parametrised database, with a demo user of each role (passwords the tests keep, so not
    one-off: tests/integration/platform/test_change_password.py covers the demo's one-off ones)."""
    from openem.platform_cli import seed_demo_users
    from openem.server import create_app

    created = seed_demo_users(db, one_off=False)
    app = create_app(make_settings(tmp_path, db_url), db, start_dispatcher=False)
    return World(app, db, {u: p for u, _, p in created})
