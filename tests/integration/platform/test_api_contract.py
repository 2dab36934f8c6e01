"""The published OpenAPI document is what the API does: schemathesis generates requests for every operation
from the document (a bounded number each, valid and invalid) and sends each to the app on SQLite and on
PostgreSQL, with and without a bearer token: no answer may be a server error, and every answer's status,
content type and body must be the documented ones. Also: pages are not in the document, and a method a path
does not take answers 405 with the methods it does take in `Allow`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.conftest import IN_CI, PG_URL, _drop_pg, _pg_database, _sqlite_copy, make_settings

EXAMPLES = 10  # per operation, per kind (valid, invalid): each sent with and without a token
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class Api:
    def __init__(self, store: str, app: Any, db: Any, token: str) -> None:
        self.store, self.app, self.db, self.token = store, app, db, token


def _api(store: str, url: str, tmp: Path) -> Api:
    """The app on a migrated store with a user holding every role that reaches the API, and their token."""
    from openem.auth.service import create_user, issue_token
    from openem.server import create_app
    from openem.store.db import Database

    db = Database(url)
    with db.uow() as uow:
        user = create_user(
            uow.session,
            actor="test",
            username="contract-user",
            password="contract-password-1",
            roles=["order_creator_court", "mc_operator", "admin"],
            display_name="Contract",
        )
        token = issue_token(uow.session, actor="test", name="contract", user_id=user.id)
    return Api(store, create_app(make_settings(tmp, url), db, start_dispatcher=False), db, token)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Api]]:
    """SQLite and PostgreSQL side by side, so that each generated request is sent to both."""
    tmp = Path(tmp_path_factory.mktemp("contract"))
    apis = [_api("sqlite", _sqlite_copy(tmp), tmp)]
    pg_url = None
    if PG_URL:
        pg_url = _pg_database()
        apis.append(_api("postgres", pg_url, tmp))
    elif IN_CI:
        pytest.fail("OPENEM_TEST_PG_URL is not set: run the suite with scripts/test.sh")
    yield apis
    for api in apis:
        api.db.dispose()
    if pg_url:
        _drop_pg(pg_url)


@pytest.fixture(scope="module")
def api(stores: list[Api]) -> Api:
    return stores[0]


def problems_of(operation: Any, mode: GenerationMode, stores: list[Api]) -> set[str]:
    """Requests generated for one operation (valid or invalid ones), each sent to every store, with the token
    and without."""
    found: dict[str, str] = {}  # one example of each kind of failure

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for api in stores:
            for auth in ({"Authorization": f"Bearer {api.token}"}, {}):
                try:
                    case.call_and_validate(headers=auth, checks=CHECKS, app=api.app)
                except (
                    AssertionError,
                    FailureGroup,
                ) as exc:  # a failed check: go on, report them all at the end
                    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
                    kind = (
                        f"{operation.label} [{api.store}, {mode.value}, {'token' if auth else 'anonymous'}]: "
                        + " | ".join(lines[:4])
                    )
                    found.setdefault(kind, kind + " | " + " | ".join(lines[4:10]))

    try:
        run()
    except Unsatisfiable:
        pass  # no invalid request can be made for an operation without parameters or body
    return set(found.values())


def test_every_answer_is_documented_and_none_is_a_server_error(stores: list[Api]) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", stores[0].app)
    problems: set[str] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            problems |= problems_of(operation, mode, stores)
    assert not problems, "\n".join(sorted(problems))


def test_pages_are_not_listed_as_json_operations(api: Api) -> None:
    paths = api.app.openapi()["paths"]
    assert "/api/orders" in paths and "/health" in paths
    assert not [p for p in paths if not p.startswith("/api/") and p not in ("/health", "/metrics")]


def test_a_method_the_path_does_not_take_answers_405_with_the_methods_it_takes(api: Api) -> None:
    from fastapi.testclient import TestClient

    c = TestClient(api.app)
    r = c.delete("/api/orders", headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}  # both routes at the path
    page = c.put("/orders/new")
    assert page.status_code == 405 and set(page.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
