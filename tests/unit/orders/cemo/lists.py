"""CEMO's reference lists as openem compares them: which CEMO files (UI reference lists by data-dictionary
version, API enums) feed each openem list, and how to read their codes out of a git snapshot.

`python -m tests.unit.orders.cemo.lists UI_GIT API_GIT` rewrites cemo_lists.json from snapshots of the two
repositories (their commits are recorded in it); the test then compares openem's lists against that file code
by code, and against the snapshots themselves when they are on this machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

MANIFEST = Path(__file__).with_name("cemo_lists.json")
UI_REPO = "ministryofjustice/hmpps-electronic-monitoring-create-an-order"
API_REPO = "ministryofjustice/hmpps-electronic-monitoring-create-an-order-api"
UI_REF = "server/i18n/en/reference/"
API_ENUMS = (
    "src/main/kotlin/uk/gov/justice/digital/hmpps/hmppselectronicmonitoringcreateanorderapi/models/enums/"
)

# openem list -> CEMO sources ("ui:" a UI reference file, "api:" an API enum). An openem list must hold the
# union: CEMO accepts a code of any data-dictionary version it still serves.
SOURCES: dict[str, list[str]] = {
    "prisons": ["ui:prisons.ts", "ui:ddv5/prisons.ts"],
    "crown_courts": ["ui:crownCourts.ts", "ui:ddv5/crownCourts.ts"],
    "magistrates_courts": ["ui:magistratesCourts.ts", "ui:ddv5/magistratesCourts.ts"],
    "civil_county_courts": ["ui:ddv5/civilCountyCourts.ts"],
    "family_courts": ["ui:ddv5/familyCourts.ts"],
    "youth_courts": ["ui:ddv5/youthCourts.ts"],
    "military_courts": ["ui:ddv5/militaryCourts.ts"],
    "probation_regions": ["ui:probationRegions.ts", "ui:ddv5/probationRegions.ts"],
    "probation_delivery_units": [
        "ui:probationDeliveryUnits.ts",
        "ui:ddv6/probationDeliveryUnits.ts",
        "ui:ddv7/probationDeliveryUnits.ts",
    ],
    "police_areas": ["ui:policeAreas.ts", "ui:ddv6/policeAreas.ts"],
    "youth_justice_service_regions": ["ui:youthJusticeServiceRegions.ts"],
    "youth_custody_service_regions": [
        "ui:ddv5/youthCustodyServiceRegions.ts",
        "ui:ddv6/youthCustodyServiceRegions.ts",
    ],
    "risk_categories": [
        "ui:riskCategories.ts",
        "ui:ddv5/riskCategories.ts",
        "ui:ddv6/riskCategories.ts",
        "ui:possibleRisks.ts",
        "api:RiskCategory.kt",
    ],
    "offence_categories": ["ui:offences.ts", "ui:ddv7/offences.ts"],
    "disabilities": ["ui:disabilities.ts", "ui:ddv5/disabilities.ts", "api:Disability.kt"],
    "sentence_types": ["ui:sentenceTypes.ts"],
    "order_types": ["ui:orderTypes.ts"],
    "condition_types": ["ui:conditionTypes.ts", "api:MonitoringConditionType.kt"],
    "schemes": ["ui:pilots.ts", "ui:ddv5/pilots.ts"],
    "variation_types": ["ui:variationTypes.ts", "ui:ddv5/variationTypes.ts"],
    "notifying_organisations": [
        "ui:notifyingOrganisations.ts",
        "ui:ddv5/notifyingOrganisations.ts",
        "ui:ddv6/notifyingOrganisations.ts",
    ],
    "responsible_organisations": ["ui:responsibleOrganisations.ts"],
    # lists openem keeps in code (openem.orders.model), not in a CSV
    "model:GENDERS": ["ui:gender.ts", "api:Gender.kt"],
    "model:SEXES": ["ui:sex.ts", "api:Sex.kt"],
    "model:INSTALL_LOCATIONS": ["ui:installationLocations.ts"],
}


def _show(git_dir: str, path: str) -> str:
    done = subprocess.run(
        ["git", "-C", git_dir, "show", f"HEAD:{path}"], capture_output=True, text=True, check=True
    )
    return done.stdout


def _head(git_dir: str) -> str:
    return subprocess.run(
        ["git", "-C", git_dir, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def ts_codes(text: str) -> list[str]:
    """Keys of the object literal `const x: T = { KEY: 'label', ... }` in a UI reference file."""
    body = text.split("= {", 1)[1].rsplit("}", 1)[0]
    return re.findall(r"^\s*'?([A-Z][A-Z0-9_]*)'?\s*:", body, re.M)


def kotlin_enum_codes(text: str) -> list[str]:
    """Constants of `enum class X(...) { A("..."), B, ...; }` in an API enum file."""
    body = text.split("{", 1)[1].split(";", 1)[0]
    return re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*(?:\(|,|$)", body, re.M)


def cemo_codes(ui_git: str, api_git: str, sources: list[str]) -> list[str]:
    found: set[str] = set()
    for source in sources:
        kind, name = source.split(":", 1)
        if kind == "ui":
            found.update(ts_codes(_show(ui_git, UI_REF + name)))
        else:
            found.update(kotlin_enum_codes(_show(api_git, API_ENUMS + name)))
    return sorted(found)


def build_manifest(ui_git: str, api_git: str) -> dict:
    return {
        "ui": {"repository": UI_REPO, "commit": _head(ui_git), "path": UI_REF},
        "api": {"repository": API_REPO, "commit": _head(api_git), "path": API_ENUMS},
        "lists": {
            name: {"sources": sources, "codes": cemo_codes(ui_git, api_git, sources)}
            for name, sources in SOURCES.items()
        },
    }


if __name__ == "__main__":
    MANIFEST.write_text(json.dumps(build_manifest(sys.argv[1], sys.argv[2]), indent=1) + "\n")
