"""Who may see a breach and who may answer it. Reading needs `breaches:read` and the case (auth.policy
can_view_case: a practitioner's caseload, an officer's force, a court's or the Home Office's own orders); the
monitoring centre sees every breach. Answering needs `breaches:respond` and the breach's own agency (a court,
the decision on a court bail breach); another agency's breach is refused."""

from __future__ import annotations

from typing import Any

from openem.auth.policy import Principal, can_view_case
from openem.auth.roles import Role
from openem.orders.queries import case_scopes

AGENCY_OF_ROLE = {Role.POLICE_OFFICER: "police", Role.PROBATION_PRACTITIONER: "probation",
                  Role.ORDER_CREATOR_COURT: "court", Role.ORDER_CREATOR_HOME_OFFICE: "home_office",
                  Role.YOUTH_JUSTICE_WORKER: "youth_justice", Role.HOME_OFFICE_CASEWORKER: "home_office"}  # fmt: skip


def agency_of(who: Principal) -> str:
    """The responding agency a user speaks for ('' for the monitoring centre and everyone else)."""
    for role, agency in AGENCY_OF_ROLE.items():
        if who.has_role(role):
            return agency
    return ""


def inboxes_of(who: Principal) -> set[str]:
    """The in-app inboxes a user reads: their own (by email) and their team's."""
    out = {who.email} if who.email else set()
    agency = agency_of(who)
    if agency == "police" and who.police_area:
        out.add(f"police:{who.police_area}")
    if agency == "home_office":
        out.add("home_office:immigration_enforcement")
    if agency == "probation" and who.organisation:
        out.add(f"probation:{who.organisation}")
    if (
        agency == "youth_justice" and who.organisation
    ):  # the youth justice service (routing: its delivery unit)
        out.add(f"youth_justice:{who.organisation}")
    return out


def visible(session: Any, who: Principal, breaches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The breaches this user may see."""
    if who.has("cases:all") and who.has("cases:restricted"):
        return breaches
    scopes = case_scopes(session, {b["order_ref"] for b in breaches})
    agency = agency_of(who)
    out = []
    for b in breaches:
        scope = scopes.get(b["order_ref"])
        if scope is None:
            if who.has("cases:all"):
                out.append(b)
            continue
        if not can_view_case(who, scope).allowed:
            continue
        if who.has("cases:all") or agency == b["agency"] or (agency == "court" and b["template"] == "bail"
                                                            and b["agency"] == "police"):  # fmt: skip
            out.append(b)
    return out
