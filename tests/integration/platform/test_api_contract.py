"""The published OpenAPI document is what the API does: schemathesis generates requests for every operation from
the document (a bounded number each, valid and invalid), with and without a bearer token, on SQLite and
PostgreSQL, and checks that no answer is a server error and every answer's status, content type and body are
the documented ones. Also: pages are not in the document, and a method a path does not take answers 405 with
the methods it does take in `Allow`."""

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
from tests.conftest import _drop_pg, _pg_database, _pg_required, _sqlite_copy, make_settings

EXAMPLES = 10  # per operation, per kind (valid, invalid): each sent with and without a token
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class Api:
    def __init__(self, app: Any, db: Any, token: str) -> None:
        self.app, self.db, self.token = app, db, token


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app on a migrated store with a user holding every role that reaches the API, and their token."""
    from openem.auth.service import create_user, issue_token
    from openem.store.db import Database
    from openem.web.app import create_app

    tmp = tmp_path_factory.mktemp("contract")
    if request.param == "sqlite":
        url = _sqlite_copy(Path(tmp))
    else:
        _pg_required()
        url = _pg_database()
    db = Database(url)
    with db.uow() as uow:
        user = create_user(uow.session, actor="test", username="contract-user", password="contract-password-1",
                           roles=["order_creator_court", "mc_operator", "admin"], display_name="Contract")
        token = issue_token(uow.session, actor="test", name="contract", user_id=user.id)
    app = create_app(make_settings(Path(tmp), url), db, start_dispatcher=False)
    yield Api(app, db, token)
    db.dispose()
    if request.param != "sqlite":
        _drop_pg(url)


def problems_of(operation: Any, mode: GenerationMode, token: str) -> set[str]:
    """Requests generated for one operation (valid or invalid ones), each sent with the token and without."""
    found: dict[str, str] = {}  # one example of each kind of failure

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        for auth in ({"Authorization": f"Bearer {token}"}, {}):
            try:
                case.call_and_validate(headers=auth, checks=CHECKS)
            except (AssertionError, FailureGroup) as exc:  # a failed check: keep going, report them all at the end
                lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
                kind = f"{operation.label} [{mode.value}, {'token' if auth else 'anonymous'}]: " + " | ".join(lines[:4])
                found.setdefault(kind, kind + " | " + " | ".join(lines[4:10]))

    try:
        run()
    except Unsatisfiable:
        pass  # no invalid request can be made for an operation without parameters or body
    return set(found.values())


def test_every_answer_is_documented_and_none_is_a_server_error(api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api.app)
    problems: set[str] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            problems |= problems_of(operation, mode, api.token)
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
