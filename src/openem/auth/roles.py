"""Roles and the permissions they grant. Deny by default: a permission not listed is not held."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ORDER_CREATOR_COURT = "order_creator_court"
    ORDER_CREATOR_PRISON = "order_creator_prison"
    ORDER_CREATOR_PROBATION = "order_creator_probation"
    ORDER_CREATOR_HOME_OFFICE = "order_creator_home_office"
    MC_OPERATOR = "mc_operator"
    FIELD_OFFICER = "field_officer"
    PROBATION_PRACTITIONER = "probation_practitioner"
    POLICE_OFFICER = "police_officer"
    CRIME_MATCHING_CASEWORKER = "crime_matching_caseworker"
    CRIME_MATCHING_MANAGER = "crime_matching_manager"
    ANALYST = "analyst"
    YOUTH_JUSTICE_WORKER = "youth_justice_worker"
    HOME_OFFICE_CASEWORKER = "home_office_caseworker"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.ORDER_CREATOR_COURT: "Order creator (court)",
    Role.ORDER_CREATOR_PRISON: "Order creator (prison)",
    Role.ORDER_CREATOR_PROBATION: "Order creator (probation)",
    Role.ORDER_CREATOR_HOME_OFFICE: "Order creator (Home Office)",
    Role.MC_OPERATOR: "Monitoring centre operator",
    Role.FIELD_OFFICER: "Field officer",
    Role.PROBATION_PRACTITIONER: "Probation practitioner",
    Role.POLICE_OFFICER: "Police officer",
    Role.CRIME_MATCHING_CASEWORKER: "Crime-matching caseworker",
    Role.CRIME_MATCHING_MANAGER: "Crime-matching manager",
    Role.ANALYST: "Analyst",
    Role.YOUTH_JUSTICE_WORKER: "Youth justice worker",
    Role.HOME_OFFICE_CASEWORKER: "Home Office caseworker",
    Role.ADMIN: "Administrator",
}

ORDER_CREATORS = frozenset(
    {
        Role.ORDER_CREATOR_COURT,
        Role.ORDER_CREATOR_PRISON,
        Role.ORDER_CREATOR_PROBATION,
        Role.ORDER_CREATOR_HOME_OFFICE,
    }
)

# Permission names are "capability:action".
PERMISSIONS: dict[Role, frozenset[str]] = {
    **{r: frozenset({"orders:create", "orders:read"}) for r in ORDER_CREATORS},
    Role.MC_OPERATOR: frozenset(
        {
            "orders:read",
            "orders:review",
            "alerts:read",
            "alerts:handle",
            "location:read",
            "cases:all",
            "devices:read",
        }
    ),
    Role.FIELD_OFFICER: frozenset({"orders:read", "devices:read", "visits:handle", "devices:manage"}),
    Role.PROBATION_PRACTITIONER: frozenset({"orders:read", "alerts:read", "location:read"}),
    Role.POLICE_OFFICER: frozenset({"orders:read", "alerts:read", "location:read"}),
    Role.CRIME_MATCHING_CASEWORKER: frozenset({"crime_matching:run", "location:read"}),
    Role.CRIME_MATCHING_MANAGER: frozenset({"crime_matching:run", "crime_matching:approve", "location:read"}),
    Role.ANALYST: frozenset({"mi:read"}),
    # issue 12: the agencies that answer youths' and immigration bail breaches, each by its own caseload
    Role.YOUTH_JUSTICE_WORKER: frozenset({"orders:read", "alerts:read", "location:read"}),
    Role.HOME_OFFICE_CASEWORKER: frozenset({"orders:read", "alerts:read", "location:read"}),
    Role.ADMIN: frozenset({"users:manage", "audit:read", "bus:manage"}),
}

# Breaches (issue 12): who reads breach packs and who records responses (their own agency's breaches only).
for _role in (Role.MC_OPERATOR, Role.PROBATION_PRACTITIONER, Role.POLICE_OFFICER, Role.ORDER_CREATOR_COURT,
              Role.ORDER_CREATOR_HOME_OFFICE, Role.YOUTH_JUSTICE_WORKER, Role.HOME_OFFICE_CASEWORKER):  # fmt: skip
    PERMISSIONS[_role] = PERMISSIONS[_role] | {"breaches:read"}
for _role in (Role.PROBATION_PRACTITIONER, Role.POLICE_OFFICER, Role.ORDER_CREATOR_COURT,
              Role.ORDER_CREATOR_HOME_OFFICE, Role.YOUTH_JUSTICE_WORKER, Role.HOME_OFFICE_CASEWORKER):  # fmt: skip
    PERMISSIONS[_role] = PERMISSIONS[_role] | {"breaches:respond"}

#: Not granted by any role: must be given to a user explicitly.
RESTRICTED = "cases:restricted"
#: Field (issue 14): a field supervisor is a user given "visits:supervise" explicitly (urgent visits, re-plans)
SUPERVISE_VISITS = "visits:supervise"
GRANTED_EXPLICITLY = frozenset({RESTRICTED, SUPERVISE_VISITS})


def permissions_for(
    roles: list[str] | tuple[str, ...], extra: list[str] | tuple[str, ...] = ()
) -> frozenset[str]:
    granted: set[str] = set()
    for name in roles:
        try:
            granted |= PERMISSIONS[Role(name)]
        except ValueError:
            continue  # an unknown role grants nothing
    granted |= {p for p in extra if p in GRANTED_EXPLICITLY}
    return frozenset(granted)
