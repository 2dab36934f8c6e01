"""One catalogue of alert kinds: every kind a rule can raise has an entry, the engine's severities and the
pages' labels come from it, and the docs' table is the catalogue's."""

from __future__ import annotations

import ast
import importlib
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pytest
from tests.unit.sim.sim_fixtures import small_world

import openem.monitoring as monitoring
from openem.monitoring import catalogue, replay
from openem.monitoring.catalogue import KINDS, UnknownAlertKind, describe
from openem.monitoring.model import make_alert

SRC = Path(monitoring.__file__).parent
DOC = Path(__file__).parents[3] / "docs" / "monitoring-rules.md"


@lru_cache(maxsize=1)
def simulated_alerts() -> list[dict]:
    """The engine over the simulator's small world (500 wearers, 2 days): every rule family gets work."""
    world = small_world()
    acts = [{k: (None if v is None or v != v else v) for k, v in row.items()}
            for row in pa.Table.from_pandas(world.activations, preserve_index=False).to_pylist()]  # fmt: skip
    alerts, _ = replay.replay(
        world.orders, acts, world.telemetry, batch_s=3600, until=replay.world_end(world.manifest)
    )
    return alerts


def test_every_kind_raised_over_a_simulated_world_is_catalogued_and_every_rule_family_raised_some() -> None:
    raised = Counter(a["kind"] for a in simulated_alerts())
    assert set(raised) <= set(KINDS), f"uncatalogued kinds raised: {set(raised) - set(KINDS)}"
    assert all(a["severity"] == KINDS[a["kind"]].severity for a in simulated_alerts())
    families = {KINDS[k].rule for k in raised}
    rule_modules = {k.rule for k in KINDS.values() if k.rule.startswith(catalogue.RULES)}
    assert (
        families >= rule_modules
    )  # the world exercised every rule module, so the check above means something


# ---- the static scan: every "kind" a draft alert can carry, read from the source -----------------------------


class KindScan(ast.NodeVisitor):
    """Collects the alert kinds written into `{"kind": ..., "start": ...}` drafts and passed to `make_alert`. A kind must be a string literal, a choice
    of literals, a name or table assigned literals, or a draft's own `["kind"]` passed on; anything else (an
    f-string, a call) is reported as unreadable, so a new rule cannot hide a kind from this test."""

    def __init__(self, tree: ast.Module, where: str) -> None:
        self.where, self.kinds, self.unreadable = where, set(), []
        self.assigned: dict[str, list[ast.expr]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            self.assigned.setdefault(name.id, []).append(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if called == "make_alert" and node.args:
            self.read(node.args[0], depth=0)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        keys = {
            k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)
        }
        if (
            "kind" in keys and "start" in keys
        ):  # an alert draft (a tamper's details carry a "kind" of their own)
            self.read(keys["kind"], depth=0)
        self.generic_visit(node)

    def read(self, e: ast.expr, depth: int) -> None:
        if depth > 8:
            self.unreadable.append(f"{self.where}:{e.lineno}")
        elif isinstance(e, ast.Constant) and isinstance(e.value, str):
            self.kinds.add(e.value)
        elif isinstance(e, ast.IfExp):
            self.read(e.body, depth + 1)
            self.read(e.orelse, depth + 1)
        elif isinstance(e, ast.Subscript) and isinstance(e.slice, ast.Constant) and e.slice.value == "kind":
            pass  # a draft's kind passed on: the draft itself is scanned where it is made
        elif isinstance(e, ast.Subscript):
            self.read(e.value, depth + 1)  # a table of kinds: its values
        elif isinstance(e, ast.Dict):
            for v in e.values:
                self.read(v, depth + 1)
        elif isinstance(e, ast.Tuple | ast.List):
            for v in e.elts:
                self.read(v, depth + 1)
        elif isinstance(e, ast.Name | ast.Attribute):
            name = e.id if isinstance(e, ast.Name) else e.attr
            values = self.assigned.get(name) or TABLES.get(name)
            if not values:
                self.unreadable.append(f"{self.where}:{e.lineno}")
            for v in values or []:
                self.read(v, depth + 1)
        else:
            self.unreadable.append(f"{self.where}:{e.lineno}")


def _module_tables() -> dict[str, list[ast.expr]]:
    """Module-level tables of every monitoring module, for a kind looked up in another module's table."""
    out: dict[str, list[ast.expr]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        out.setdefault(t.id, []).append(node.value)
    return out


TABLES = _module_tables()


def scan(paths: list[Path]) -> tuple[set[str], list[str]]:
    kinds, unreadable = set(), []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        s = KindScan(tree, str(path.relative_to(SRC)))
        s.visit(tree)
        kinds |= s.kinds
        unreadable += s.unreadable
    return kinds, unreadable


def rule_sources() -> list[Path]:
    # not the catalogue, replay's scoring, or make_alert itself (the sink: its kinds are its callers')
    return [p for p in SRC.rglob("*.py") if p.name not in ("catalogue.py", "replay.py", "model.py")]


def test_every_kind_written_in_the_rules_source_is_catalogued() -> None:
    kinds, unreadable = scan(rule_sources())
    assert not unreadable, f"alert kinds the scan cannot read (write them as literals): {unreadable}"
    assert kinds - {"order_unusable"} <= set(KINDS), f"uncatalogued kinds in the source: {kinds - set(KINDS)}"
    # and the other way: every kind a rule module is said to raise appears in that module
    for entry in KINDS.values():
        if entry.rule.startswith(catalogue.RULES):
            module = importlib.import_module(entry.rule)
            assert f'"{entry.kind}"' in Path(module.__file__).read_text(encoding="utf-8"), entry


def test_the_scan_catches_a_rule_raising_an_uncatalogued_or_unreadable_kind(tmp_path: Path) -> None:
    rule = tmp_path / "new_rule.py"
    rule.write_text('def step(t, k):\n    name = "curfew_absent" if k else "curfew_sulk"\n'
                    '    return [{"kind": name, "start": t}, {"kind": f"{k}_tamper", "start": t}]\n')  # fmt: skip
    tree = ast.parse(rule.read_text())
    s = KindScan(tree, "new_rule.py")
    s.visit(tree)
    kinds, unreadable = s.kinds, s.unreadable
    assert kinds == {"curfew_absent", "curfew_sulk"} and unreadable == ["new_rule.py:3"]
    assert "curfew_sulk" not in KINDS


def test_an_uncatalogued_kind_raised_fails_loudly() -> None:
    with pytest.raises(UnknownAlertKind, match="curfew_sulk"):
        make_alert(
            "curfew_sulk", order=None, device_id="D", condition_id="c", start=0.0, end=None, evidence=[]
        )
    alert = make_alert(
        "hmu_power_loss", order=None, device_id="D", condition_id="c", start=0.0, end=None, evidence=[]
    )
    assert alert["severity"] == "MEDIUM"  # was LOW by omission from the old severity table


def test_every_entry_is_complete_and_unknown_kinds_get_a_readable_fallback() -> None:
    for kind, entry in KINDS.items():
        assert entry.kind == kind and entry.severity in catalogue.SEVERITIES
        assert entry.label and entry.label[0].isupper() and len(entry.label) <= 40, entry
        assert entry.description.endswith(".") and entry.condition and entry.rule, entry
    assert {"proximity", "curfew_absence", "order_unusable"} <= set(KINDS)  # had no label on the pages
    assert len({e.label for e in KINDS.values()}) == len(KINDS)  # an operator can tell every kind apart
    old = describe("gps_lost")
    assert old.label == "Gps lost" and old.severity == "LOW" and "does not know" in old.description


def test_the_docs_table_of_kinds_is_the_catalogue() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert catalogue.with_table(text) == text, (
        "regenerate: python -m openem.monitoring.catalogue docs/monitoring-rules.md"
    )
    # and each rule section's heading lists exactly the catalogue's kinds
    listed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("## ") and " — " in line:
            listed |= {
                part.strip().strip("`") for part in line.split(" — ", 1)[1].removeprefix("kinds ").split(",")
            }
    assert listed == set(KINDS)
