"""Webhook signatures: a changed body, a wrong secret, an old timestamp or a repeated delivery id are refused."""

from __future__ import annotations

import pytest

from openem.notify import signing


def _seen():
    ids: set[str] = set()

    def seen(i: str) -> bool:
        was = i in ids
        ids.add(i)
        return was

    return seen


def test_genuine_request_is_accepted_once():
    h = signing.sign("s3cret-s3cret-s3cret", 1_000_000, "DLV-1", b'{"a":1}')
    seen = _seen()
    assert signing.verify("s3cret-s3cret-s3cret", h, b'{"a":1}', 1_000_010, seen) == "DLV-1"
    with pytest.raises(signing.Refused, match="replay"):
        signing.verify("s3cret-s3cret-s3cret", h, b'{"a":1}', 1_000_010, seen)


@pytest.mark.parametrize(
    "change", ["body", "secret", "old", "future", "no_ts", "bad_ts", "no_sig", "other_id"]
)
def test_tampered_or_stale_requests_are_refused(change):
    secret, body, ts = "s3cret-s3cret-s3cret", b'{"a":1}', 1_000_000
    h = signing.sign(secret, ts, "DLV-1", body)
    now = ts + 5
    if change == "body":
        body = b'{"a":2}'
    if change == "secret":
        secret = "another-secret-value"
    if change == "old":
        now = ts + 301
    if change == "future":
        now = ts - 301
    if change == "no_ts":
        h.pop(signing.TIMESTAMP)
    if change == "bad_ts":
        h[signing.TIMESTAMP] = "yesterday"
    if change == "no_sig":
        h.pop(signing.SIGNATURE)
    if change == "other_id":
        h[signing.DELIVERY] = "DLV-2"
    with pytest.raises(signing.Refused):
        signing.verify(secret, h, body, now, _seen())
