"""A validation rule that raises is a bug to fix: the user is told the order could not be checked, and the
log says which rule, on which order, with the traceback."""

import logging

import openem.orders.rules as rules
from openem.orders.rules import validate_order


def test_a_crashing_rule_is_logged_with_its_name_the_order_ref_and_the_traceback(
    order, now, monkeypatch, caplog
):
    def check_broken(doc, ctx):
        raise ZeroDivisionError("division by zero in the broken rule")

    monkeypatch.setattr(rules, "RULES", (*rules.RULES, check_broken))
    with caplog.at_level(logging.ERROR, logger="openem.orders.rules"):
        errors = validate_order(order, now=now)
    assert [e.code for e in errors] == ["rule_failed"]
    assert "check_broken" in errors[0].message
    [record] = [r for r in caplog.records if r.name == "openem.orders.rules"]
    assert "check_broken" in record.getMessage() and order["ref"] in record.getMessage()
    assert record.exc_info and record.exc_info[0] is ZeroDivisionError
    assert "division by zero in the broken rule" in caplog.text  # the traceback is in the log


def test_rules_that_work_log_nothing(order, now, caplog):
    with caplog.at_level(logging.DEBUG, logger="openem.orders.rules"):
        assert validate_order(order, now=now) == []
    assert not [r for r in caplog.records if r.name == "openem.orders.rules"]
