"""Signed-in clients for the order-page tests."""

from __future__ import annotations

import pytest

from .pages_helpers import csrf


@pytest.fixture
def creator(world):
    c = world.signed_in("demo-order-creator-court")
    c.token = csrf(c)
    return c


@pytest.fixture
def operator(world):
    c = world.signed_in("demo-mc-operator")
    c.token = csrf(c)
    return c
