"""Audit keys: kept outside the database, made once in development, required in production, rotated
without losing the old ones; the keyed digest and anchors depend on the key."""

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openem.auth.audit_anchors import make_anchor
from openem.auth.audit_digest import keyed_digest, row_digest
from openem.auth.audit_keys import AuditKeyError, KeyRing, load_keyring, parse_env_keys, read_key_file, rotate
from openem.config import load_settings

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "s" * 40


def test_env_keys_list_the_signing_key_first_and_keep_the_others_for_checking():
    current, keys = parse_env_keys(f"k2:{SECRET}2, k1:{SECRET}1")
    assert current == "k2" and set(keys) == {"k1", "k2"}


def test_a_bare_env_secret_gets_a_stable_id_and_a_short_one_is_refused():
    key_id = parse_env_keys(SECRET)[0]
    assert (
        key_id.startswith("env-") and key_id == parse_env_keys(SECRET)[0] != parse_env_keys(SECRET + "x")[0]
    )
    with pytest.raises(AuditKeyError, match="shorter"):
        parse_env_keys("k1:short")


def test_a_key_file_is_made_once_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "var" / "audit_keys.json"
    first = load_keyring(None, path, create=True)
    again = load_keyring(None, path, create=True)
    assert first == again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(AuditKeyError, match="no audit key"):
        load_keyring(None, tmp_path / "none.json", create=False)


def test_a_key_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "audit_keys.json"
    load_keyring(None, path, create=True)
    os.chmod(path, 0o644)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        read_key_file(path)


def test_rotation_adds_a_signing_key_and_keeps_the_old_ones(tmp_path):
    path = tmp_path / "audit_keys.json"
    old = load_keyring(None, path, create=True)
    new_id = rotate(path)
    ring = load_keyring(None, path, create=False)
    assert ring.current_id == new_id != old.current_id
    assert ring.secrets[old.current_id] == old.secrets[old.current_id]


def test_production_refuses_to_start_or_audit_without_an_audit_key(tmp_path):
    from openem.auth.audit_trust import require_keys, trust_from_settings

    env = {"OPENEM_ENV": "production", "OPENEM_SECRET_KEY": "x" * 40, "OPENEM_VAR_DIR": str(tmp_path)}
    with pytest.raises(AuditKeyError, match="OPENEM_AUDIT_KEY"):
        require_keys(load_settings(env))
    with pytest.raises(AuditKeyError, match="OPENEM_AUDIT_KEY"):
        trust_from_settings(load_settings(env))
    assert not (tmp_path / "audit_keys.json").exists()
    require_keys(load_settings({**env, "OPENEM_AUDIT_KEY": SECRET}))
    rotate(tmp_path / "audit_keys.json")  # or a key file made by `openem audit rotate-key`
    require_keys(load_settings(env))


def test_default_key_and_anchor_places_follow_the_database(tmp_path):
    lite = load_settings(
        {
            "OPENEM_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'x.db'}",
            "OPENEM_VAR_DIR": str(tmp_path / "var"),
            "OPENEM_SECRET_KEY": "k",
        }
    )
    assert lite.audit_key_file == tmp_path / "data" / "audit_keys.json"
    assert lite.audit_anchor_paths == (tmp_path / "data" / "audit-anchors" / "x.jsonl",)
    pg = load_settings(
        {
            "OPENEM_DATABASE_URL": "postgresql://u:p@db:5432/openem_live",
            "OPENEM_VAR_DIR": str(tmp_path / "var"),
            "OPENEM_SECRET_KEY": "k",
            "OPENEM_AUDIT_ANCHOR_PATH": f"/a/one.jsonl{os.pathsep}/b/two.jsonl",
        }
    )
    assert pg.audit_key_file == tmp_path / "var" / "audit_keys.json"
    assert pg.audit_anchor_paths == (Path("/a/one.jsonl"), Path("/b/two.jsonl"))


def test_the_keyed_digest_cannot_be_made_without_the_key():
    args = ("0" * 64, 1, AT, "USR-1", "orders:ORD-1:read", ["ORD-1"], "", "ok", {})
    keyed = keyed_digest(b"a" * 32, "k1", *args)
    assert keyed != row_digest(*args)
    assert keyed != keyed_digest(b"b" * 32, "k1", *args)
    assert keyed != keyed_digest(b"a" * 32, "k2", *args)


def test_an_anchor_is_signed_by_its_key_only():
    ring = KeyRing("k1", {"k1": b"a" * 32})
    anchor = make_anchor(ring, 7, "f" * 64)
    assert anchor.signed_by(ring)
    assert not anchor.signed_by(KeyRing("k1", {"k1": b"b" * 32}))
    moved = type(anchor)(8, anchor.hash, anchor.at, anchor.key_id, anchor.mac)
    assert not moved.signed_by(ring)
