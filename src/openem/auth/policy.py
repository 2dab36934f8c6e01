"""Who may see a case. Pure: decisions over plain data, deny by default.

A case is an order and its wearer's data. Beyond role permissions:
- probation practitioners see their caseload only (they are the responsible officer, or assigned);
- youth justice workers and Home Office caseworkers likewise see their caseload only;
- police officers see cases of their own force (the order's police area);
- field officers see the cases of their depot's area (the order's police area) and visits assigned to them;
- order creators see the orders they or their organisation created;
- monitoring-centre operators see all cases;
- "specials" / restricted cases need the explicit restricted permission on top of the above;
- anyone else: denied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openem.auth.roles import ORDER_CREATORS, RESTRICTED, Role, permissions_for


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    roles: tuple[str, ...]
    email: str = ""
    organisation: str = ""  # court / prison code, PDU code, or force code
    police_area: str = ""
    extra_permissions: tuple[str, ...] = ()
    caseload: frozenset[str] = field(default_factory=frozenset)  # order refs assigned to this user

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_for(self.roles, self.extra_permissions)

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def has_role(self, *roles: Role) -> bool:
        return any(r.value in self.roles for r in roles)


@dataclass(frozen=True)
class CaseScope:
    """What the access rules need to know about a case."""

    order_ref: str
    responsible_officer_email: str = ""
    police_area: str = ""
    notifying_organisation_name: str = ""
    created_by: str = ""
    restricted: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def can_view_case(who: Principal, case: CaseScope) -> Decision:
    perms = who.permissions
    if case.restricted and RESTRICTED not in perms:
        return Decision(False, "restricted case: needs the restricted-cases permission")
    if "cases:all" in perms:
        return Decision(True, "monitoring centre")
    if who.has_role(Role.PROBATION_PRACTITIONER):
        if case.order_ref in who.caseload or (
            who.email and case.responsible_officer_email.lower() == who.email.lower()
        ):
            return Decision(True, "in caseload")
    if who.has_role(Role.YOUTH_JUSTICE_WORKER, Role.HOME_OFFICE_CASEWORKER) and (
        case.order_ref in who.caseload
        or (who.email and case.responsible_officer_email.lower() == who.email.lower())
    ):
        return Decision(True, "in caseload")  # youth justice and Home Office caseworkers: their caseload only
    if who.has_role(Role.POLICE_OFFICER) and who.police_area and case.police_area == who.police_area:
        return Decision(True, "own force")
    if who.has_role(Role.FIELD_OFFICER) and (
        case.order_ref in who.caseload or (who.police_area and case.police_area == who.police_area)
    ):
        return Decision(True, "own area")  # a depot's officers fit and visit across the force area
    if any(r.value in who.roles for r in ORDER_CREATORS):
        if case.created_by == who.user_id:
            return Decision(True, "created the order")
        if who.organisation and case.notifying_organisation_name == who.organisation:
            return Decision(True, "own organisation")
    return Decision(False, "not in your caseload")
