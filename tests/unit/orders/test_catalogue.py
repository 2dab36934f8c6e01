"""Every error code a rule can return is documented in docs/order-validation.md."""

from __future__ import annotations

import ast
import pathlib

import openem.orders.rules as rules_pkg
from openem.orders.rules.structure import _TYPE_TO_CODE

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _codes_in_rules() -> set[str]:
    found = set(_TYPE_TO_CODE.values())
    sources = [*pathlib.Path(rules_pkg.__file__).parent.glob("*.py"), ROOT / "src/openem/orders/documents.py"]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("ValidationError", "_err")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def test_every_code_is_in_the_catalogue():
    catalogue = (ROOT / "docs" / "order-validation.md").read_text(encoding="utf-8")
    codes = _codes_in_rules()
    assert len(codes) > 40
    missing = sorted(c for c in codes if f"`{c}`" not in catalogue)
    assert missing == []
