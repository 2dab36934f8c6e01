from openem.auth.policy import CaseScope, Principal, can_view_case
from openem.auth.roles import RESTRICTED, Role, permissions_for

CASE = CaseScope(
    order_ref="ORD-1",
    responsible_officer_email="pp@example.org",
    police_area="WEST_YORKSHIRE",
    notifying_organisation_name="LEEDS_MAGISTRATES_COURT",
    created_by="USR-C",
)


def who(role: Role, **kw) -> Principal:
    return Principal(user_id=kw.pop("user_id", "USR-X"), username="x", roles=(role.value,), **kw)


def test_every_role_without_a_relationship_is_denied():
    # deny by default: with no caseload, force or organisation link, only the monitoring centre sees a case
    for role in Role:
        d = can_view_case(who(role), CASE)
        assert d.allowed == (role == Role.MC_OPERATOR), role


def test_unknown_role_grants_nothing():
    assert permissions_for(("superuser",)) == frozenset()
    assert not can_view_case(Principal("U", "u", ("superuser",)), CASE).allowed


def test_practitioner_sees_own_caseload_only():
    assert can_view_case(who(Role.PROBATION_PRACTITIONER, email="PP@example.org"), CASE).allowed
    assert can_view_case(who(Role.PROBATION_PRACTITIONER, caseload=frozenset({"ORD-1"})), CASE).allowed
    assert not can_view_case(who(Role.PROBATION_PRACTITIONER, email="other@example.org"), CASE).allowed


def test_police_see_own_force_only():
    assert can_view_case(who(Role.POLICE_OFFICER, police_area="WEST_YORKSHIRE"), CASE).allowed
    assert not can_view_case(who(Role.POLICE_OFFICER, police_area="MERSEYSIDE"), CASE).allowed


def test_order_creator_sees_own_orders_and_organisation():
    assert can_view_case(who(Role.ORDER_CREATOR_COURT, user_id="USR-C"), CASE).allowed
    assert can_view_case(who(Role.ORDER_CREATOR_COURT, organisation="LEEDS_MAGISTRATES_COURT"), CASE).allowed
    assert not can_view_case(
        who(Role.ORDER_CREATOR_COURT, organisation="YORK_MAGISTRATES_COURT"), CASE
    ).allowed


def test_restricted_cases_need_explicit_permission_even_for_the_monitoring_centre():
    special = CaseScope(order_ref="ORD-2", restricted=True, police_area="WEST_YORKSHIRE")
    assert not can_view_case(who(Role.MC_OPERATOR), special).allowed
    assert not can_view_case(who(Role.POLICE_OFFICER, police_area="WEST_YORKSHIRE"), special).allowed
    assert can_view_case(who(Role.MC_OPERATOR, extra_permissions=(RESTRICTED,)), special).allowed


def test_restricted_permission_cannot_come_from_a_role_and_extra_grants_nothing_else():
    assert all(RESTRICTED not in permissions_for((r.value,)) for r in Role)
    assert permissions_for((), ("users:manage", RESTRICTED)) == frozenset({RESTRICTED})
