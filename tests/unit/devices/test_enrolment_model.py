"""A phone's enrolment token: kept only as its SHA-256; the verdict a phone gets for each way of being wrong."""

from datetime import UTC, datetime

from openem.devices.model import Enrolment, enrolment_url, judge, new_token, plausible_token, token_hash

T = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _enrolment(token: str, revoked: bool = False) -> Enrolment:
    return Enrolment(token_hash(token), "PHONE-7", "VICTIM", T, T if revoked else None)


def test_tokens_are_unguessable_url_safe_and_stored_only_as_their_hash():
    a, b = new_token(), new_token()
    assert a != b and plausible_token(a) and len(a) >= 32
    assert token_hash(a) == token_hash(a) and len(token_hash(a)) == 64 and a not in token_hash(a)
    assert enrolment_url("http://127.0.0.1:8000/", a) == f"http://127.0.0.1:8000/ingest/osmand/{a}"


def test_the_right_token_and_id_may_send():
    tok = new_token()
    assert judge(_enrolment(tok), tok, "PHONE-7").device_id == "PHONE-7"


def test_each_refusal_has_its_own_code_and_reason():
    tok = new_token()
    assert judge(None, tok, "PHONE-7").code == "unknown_token"
    assert judge(_enrolment(tok), new_token(), "PHONE-7").code == "unknown_token"
    assert judge(_enrolment(tok, revoked=True), tok, "PHONE-7").code == "revoked_token"
    assert judge(_enrolment(tok), tok, None).code == "missing_id"
    assert judge(_enrolment(tok), tok, "").code == "missing_id"
    refused = judge(_enrolment(tok), tok, "PHONE-8")
    assert refused.code == "id_not_enrolled" and not refused.ok and "enrolled" in refused.reason


def test_strange_tokens_are_not_plausible():
    for bad in ("", "short", "x" * 65, "a b" * 10, "../../etc/passwd" * 2, "é" * 30):
        assert not plausible_token(bad)
