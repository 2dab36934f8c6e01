"""The order's JSON Schema, generated from the models (served at /api/schema/order, `openem orders schema`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from openem.orders.model import Order

SCHEMA_ID = "https://openem.example/schemas/order.json"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    schema = Order.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def order_json_schema() -> dict[str, Any]:
    """A fresh copy of the JSON Schema (draft 2020-12) of an order document."""
    import copy

    return copy.deepcopy(_schema())
