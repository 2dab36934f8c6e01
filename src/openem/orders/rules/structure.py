"""Shape of the document: types, lengths, control characters, unknown fields (from the pydantic models)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticError

from openem.orders.model import Order
from openem.orders.rules.base import ValidationError, path

_MESSAGES = {
    "too_long": "{label} must be {limit} characters or fewer",
    "control_characters": "{label} must not contain control characters (such as invisible line feeds or nulls)",
    "unknown_field": "{label} is not a field of an order. Remove it",
    "wrong_type": "{label} is not in the right format",
    "not_allowed_value": "Select a valid option for {label}",
    "too_many": "{label} has too many entries",
    "out_of_range": "{label} is outside the allowed range",
}

_TYPE_TO_CODE = {
    "string_too_long": "too_long",
    "control_characters": "control_characters",
    "extra_forbidden": "unknown_field",
    "literal_error": "not_allowed_value",
    "enum": "not_allowed_value",
    "too_long": "too_many",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "finite_number": "out_of_range",
}


def label(field: str) -> str:
    """A readable label for a field path: `device_wearer.first_name` -> `First name`."""
    last = field.rsplit(".", 1)[-1].split("[", 1)[0] or "The order"
    return last.replace("_", " ").capitalize()


def check_structure(doc: Any) -> list[ValidationError]:
    if not isinstance(doc, dict):
        return [ValidationError("wrong_type", "", "The order must be a JSON object")]
    try:
        Order.model_validate(doc)
    except PydanticError as exc:
        return [_convert(e) for e in exc.errors(include_url=False, include_input=False)]
    return []


def _convert(err: Any) -> ValidationError:
    loc = [
        p for p in err.get("loc", ()) if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
    ]
    field = path(*loc)
    code = _TYPE_TO_CODE.get(err.get("type", ""), "wrong_type")
    ctx = err.get("ctx") or {}
    limit = ctx.get("max_length", "")
    return ValidationError(code, field, _MESSAGES[code].format(label=label(field), limit=limit))
