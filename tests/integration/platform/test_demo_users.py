"""A demo user whose one-off password is lost gets a new one from the command line (printed once, audited, to
be changed at the next sign-in), and their old password and sessions stop working."""

from __future__ import annotations

import re

from sqlalchemy import select
from tests.conftest import sign_in

from openem.auth.tables import AuditRow
from openem.cli import main


def test_reset_password_prints_a_new_one_that_signs_in_to_choose_another(
    world, db_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("OPENEM_DATABASE_URL", db_url)
    monkeypatch.setenv("OPENEM_VAR_DIR", str(tmp_path / "var"))
    old = world.signed_in("demo-mc-operator")
    assert main(["users", "reset-password", "demo-mc-operator"]) == 0
    new_password = re.search(r"new password for demo-mc-operator: (\S+)", capsys.readouterr().out).group(1)
    assert "/sign-in" in str(old.get("/").url)  # the old session has ended
    assert "/sign-in" in str(
        sign_in(world.client(), "demo-mc-operator", world.passwords["demo-mc-operator"]).url
    )
    assert sign_in(world.client(), "demo-mc-operator", new_password).url.path == "/change-password"
    with world.db.uow() as uow:
        assert uow.session.execute(
            select(AuditRow).where(AuditRow.action.like("auth:%:reset_password"))
        ).first()
    assert main(["users", "reset-password", "nobody"]) == 1
