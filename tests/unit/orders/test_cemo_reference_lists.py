"""Every code CEMO accepts is in openem's lists: compared code by code with CEMO's own lists.

The CEMO side is tests/unit/orders/cemo/cemo_lists.json, read from
ministryofjustice/hmpps-electronic-monitoring-create-an-order (UI reference lists, all data-dictionary
versions) at commit aceb623c4c6efa14628ae3906c8f37529c8a4b99 and
ministryofjustice/hmpps-electronic-monitoring-create-an-order-api (enums) at commit
9c698f783d2aa7490f42c093e75e51b1e4a2c474. Where snapshots of those repositories are on this machine
(OPENEM_CEMO_UI_GIT / OPENEM_CEMO_API_GIT), the file itself is checked against them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.unit.orders.cemo import lists

from openem.core import reference
from openem.orders import model

UI_COMMIT = "aceb623c4c6efa14628ae3906c8f37529c8a4b99"
API_COMMIT = "9c698f783d2aa7490f42c093e75e51b1e4a2c474"
MANIFEST = json.loads(lists.MANIFEST.read_text())
MIRRORS = Path("/work/.mirror")


def _openem_codes(name: str) -> set[str]:
    if name.startswith("model:"):
        return set(getattr(model, name.split(":", 1)[1]))
    return set(reference.codes(name))


def test_the_comparison_names_the_cemo_commits_it_was_read_from() -> None:
    assert MANIFEST["ui"]["commit"] == UI_COMMIT
    assert MANIFEST["api"]["commit"] == API_COMMIT
    assert set(MANIFEST["lists"]) == set(lists.SOURCES)


@pytest.mark.parametrize("name", sorted(lists.SOURCES))
def test_every_cemo_code_is_in_the_openem_list(name: str) -> None:
    missing = sorted(set(MANIFEST["lists"][name]["codes"]) - _openem_codes(name))
    assert missing == [], f"{name}: CEMO accepts codes openem lacks: {missing}"


def test_codes_the_issue_named_are_accepted() -> None:
    assert {"REQUIREMENT_OF_A_COMMUNITY_ORDER", "BAIL_ORDER"} <= set(reference.codes("condition_types"))
    assert "HAMMERSMITH_FULHAM_KENSINGTON_CHELSEA_AND_WESTMINSTER" in reference.delivery_unit_regions()
    assert reference.delivery_unit_regions()["TAMESIDE"] == "GREATER_MANCHESTER"
    possible_risks = {
        "HOMOPHOBIC_VIEWS",
        "RISK_TO_GENDER",
        "THREATS_OF_VIOLENCE",
        "SEXUAL_OFFENCES",
        "RACIAL_ABUSE_OR_THREATS",
        "NO_RISK",
    }
    assert possible_risks <= set(reference.codes("risk_categories"))
    assert "IMMIGRATION_REMOVAL_CENTRE" in model.INSTALL_LOCATIONS


def test_every_delivery_unit_belongs_to_a_known_region() -> None:
    regions = set(reference.codes("probation_regions"))
    assert set(reference.delivery_unit_regions().values()) <= regions


def _mirror(env: str, repo: str) -> str | None:
    given = os.environ.get(env)
    if given:
        return given
    local = MIRRORS / repo.replace("/", "+") / "repo"
    return str(local) if local.is_dir() else None


def test_the_recorded_cemo_lists_match_the_cemo_repositories() -> None:
    ui = _mirror("OPENEM_CEMO_UI_GIT", lists.UI_REPO)
    api = _mirror("OPENEM_CEMO_API_GIT", lists.API_REPO)
    if ui is None or api is None:
        pytest.skip(
            "no snapshot of CEMO's repositories on this machine; the recorded lists are compared above"
        )
    fresh = lists.build_manifest(ui, api)
    if fresh["ui"]["commit"] != UI_COMMIT or fresh["api"]["commit"] != API_COMMIT:
        pytest.skip("the CEMO snapshots here are at other commits: regenerate cemo_lists.json to move on")
    assert fresh == MANIFEST
