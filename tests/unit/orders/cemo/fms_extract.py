"""Regenerate openem's copy of what CEMO sends the field-monitoring supplier for each code, and the CEMO
scenario fixtures the round-trip tests use, from a snapshot of the CEMO API repository.

    python -m tests.unit.orders.cemo.fms_extract API_GIT

writes src/openem/reference/cemo_fms_values.json (each API enum: code -> the supplier's value, with the commit)
and copies src/test/resources/json/scenarios/*/ into tests/unit/orders/cemo/scenarios/.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.unit.orders.cemo.lists import API_ENUMS, API_REPO

ROOT = Path(__file__).resolve().parents[4]
VALUES = ROOT / "src" / "openem" / "reference" / "cemo_fms_values.json"
SCENARIOS = Path(__file__).with_name("scenarios")
SCENARIO_SOURCE = "src/test/resources/json/scenarios/"
_ENTRY = re.compile(r"^  ([A-Z][A-Z0-9_]*)\s*\(", re.M)
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_LIST_OF = re.compile(r"listOf\([^)]*\)")


def _git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True
    ).stdout


def enum_values(source: str) -> dict[str, str]:
    """NAME("value") entries of a Kotlin enum (the first string argument once listOf(...) is removed)."""
    body = source.split("enum class", 1)[1]
    body = body.split("{", 1)[1]
    body = re.split(r"^\s*;\s*$", body, maxsplit=1, flags=re.M)[0]
    out: dict[str, str] = {}
    starts = list(_ENTRY.finditer(body))
    for i, m in enumerate(starts):
        chunk = body[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(body)]
        strings = _STRING.findall(_LIST_OF.sub("", chunk))
        if strings:
            out[m.group(1)] = strings[0].replace('\\"', '"')
    return out


def main(api_git: str) -> None:
    commit = _git(api_git, "rev-parse", "HEAD").strip()
    enums: dict[str, dict[str, str]] = {}
    for path in _git(api_git, "ls-tree", "-r", "--name-only", "HEAD", API_ENUMS).split():
        name = path[len(API_ENUMS) :].removesuffix(".kt").replace("/", ".")
        values = enum_values(_git(api_git, "show", f"HEAD:{path}"))
        if values:
            enums[name] = values
    doc = {"repository": API_REPO, "commit": commit, "path": API_ENUMS, "enums": enums}
    VALUES.write_text(json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    for path in _git(api_git, "ls-tree", "-r", "--name-only", "HEAD", SCENARIO_SOURCE).split():
        target = SCENARIOS / path[len(SCENARIO_SOURCE) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_git(api_git, "show", f"HEAD:{path}"), encoding="utf-8")
    (SCENARIOS / "SOURCE.json").write_text(
        json.dumps({"repository": API_REPO, "commit": commit, "path": SCENARIO_SOURCE}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main(sys.argv[1])
