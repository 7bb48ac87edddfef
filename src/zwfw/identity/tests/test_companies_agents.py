"""Legal persons and agents: registration by 比对, authorisation scope and validity, revocation,
acting for the company (J2), and the trust-level gate of items."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from zwfw.catalog.content import validate_content
from zwfw.catalog.services import publish_content
from zwfw.catalog.tests import factories as catalog_factories
from zwfw.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.identity import services
from zwfw.identity.models import AgentAuthorisation, Company, User
from zwfw.identity.tests.conftest import COMPANY, LI_NA, REP, WANG, person, staff_user
from zwfw.organisations.models import Role

pytestmark = pytest.mark.usefixtures("registry_data", "ip_context")

FOOD = "XK00012000-3-511600-11511600511600040M-01"
FOOD_BASIC = "XK00012000"
OTHER = "XK00012000-3-511600-11511600511600040M-02"


@pytest.fixture
def items(db: None) -> dict[str, Any]:
    department = catalog_factories.department()
    food, _ = publish_content(
        validate_content(catalog_factories.content(min_trust_level="L3")), department=department
    )
    other, _ = publish_content(
        validate_content(
            catalog_factories.content(
                implementation_code=OTHER, basic_code="XK00013000", min_trust_level="L4"
            )
        ),
        department=department,
    )
    return {"food": food, "other": other}


@pytest.fixture
def people(db: None) -> dict[str, User]:
    return {
        "rep": person(REP, username="rep"),
        "wang": person(WANG, username="wang"),
        "li_na": person(LI_NA, username="lina"),
    }


@pytest.fixture
def company(people: dict[str, User]) -> Company:
    return services.register_company(people["rep"], uscc=COMPANY.uscc, name=COMPANY.name)


def _authorise(company: Company, actor: User, **overrides: Any) -> AgentAuthorisation:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "agent_id_number": WANG.id_number,
        "agent_name": WANG.name,
        "all_items": False,
        "item_codes": [FOOD_BASIC],
        "valid_from": today,
        "valid_until": today.replace(year=today.year + 1) - dt.timedelta(days=1),
    }
    values.update(overrides)
    return services.authorise_agent(actor, company, **values)


def test_company_registration_compares_with_the_legal_entity_registry(
    people: dict[str, User],
) -> None:
    company = services.register_company(people["rep"], uscc=COMPANY.uscc.lower(), name=COMPANY.name)
    assert (company.uscc, company.trust_level, company.verified_via) == (
        COMPANY.uscc,
        "L3",
        "online",
    )
    record = AuditRecord.objects.get(action="identity:company_register")
    assert record.actor == f"user:{people['rep'].pk}"
    with pytest.raises(Conflict):
        services.register_company(people["rep"], uscc=COMPANY.uscc, name=COMPANY.name)


@pytest.mark.parametrize(
    ("who", "uscc", "name", "code"),
    [
        ("wang", COMPANY.uscc, COMPANY.name, "identity.company_mismatch"),  # not the representative
        ("rep", COMPANY.uscc, "另一家餐饮公司", "identity.company_mismatch"),
        ("rep", "91511602MA6CXY2P9X", COMPANY.name, "uscc.check_digit"),
        ("rep", "91511602MA6CXY2P0", COMPANY.name, "uscc.length"),
    ],
)
def test_company_registration_refusals_change_nothing(
    people: dict[str, User], who: str, uscc: str, name: str, code: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        services.register_company(people[who], uscc=uscc, name=name)
    assert raised.value.code == code
    assert not Company.objects.exists()


def test_unknown_uscc_is_reported_as_such(people: dict[str, User]) -> None:
    from zwfw.core.validators import org_code_check_char, uscc_check_char

    org = "MA6CXY3P" + org_code_check_char("MA6CXY3P")
    body = "91511602" + org
    with pytest.raises(ValidationError) as raised:
        services.register_company(people["rep"], uscc=body + uscc_check_char(body), name="某公司")
    assert raised.value.code == "identity.company_unknown"


def test_a_self_declared_person_cannot_register_a_company(people: dict[str, User]) -> None:
    User.objects.filter(pk=people["rep"].pk).update(trust_level="L2")
    people["rep"].refresh_from_db()
    with pytest.raises(PermissionDenied) as raised:
        services.register_company(people["rep"], uscc=COMPANY.uscc, name=COMPANY.name)
    assert raised.value.code == "identity.trust_level"


def test_window_company_registration_by_a_clerk(people: dict[str, User], clerk: User) -> None:
    company = services.register_company_at_window(
        clerk,
        uscc=COMPANY.uscc,
        name=COMPANY.name,
        representative_id_number=REP.id_number,
        representative_name=REP.name,
    )
    assert (company.trust_level, company.verified_via, company.created_by) == (
        "L4",
        "window",
        clerk,
    )
    with pytest.raises(PermissionDenied):
        services.register_company_at_window(
            people["wang"],
            uscc=COMPANY.uscc,
            name=COMPANY.name,
            representative_id_number=REP.id_number,
            representative_name=REP.name,
        )


def test_j2_agent_scope_validity_and_acting_for_the_company(
    items: dict[str, Any], people: dict[str, User], company: Company
) -> None:
    authorisation = _authorise(company, people["rep"])
    wang = people["wang"]
    assert services.agent_may_act(wang, company, FOOD)  # basic code covers the implementation
    assert not services.agent_may_act(wang, company, OTHER)
    assert not services.agent_may_act(people["li_na"], company, FOOD)
    assert services.agent_may_act(people["rep"], company, OTHER)  # the representative: always
    record = AuditRecord.objects.get(action="identity:agent_authorise")
    assert record.after["item_codes"] == [FOOD_BASIC]

    client = Client()
    client.force_login(wang)
    switched = client.post(
        "/api/v1/identity/acting", {"uscc": COMPANY.uscc}, content_type="application/json"
    )
    assert switched.status_code == 200, switched.json()
    acting = switched.json()["acting_for"]
    assert acting == {
        "uscc": COMPANY.uscc,
        "name": COMPANY.name,
        "authorisation_id": authorisation.pk,
    }
    assert client.session["zwfw_acting_for"] == acting
    switch_record = AuditRecord.objects.get(action="identity:switch_identity")
    assert switch_record.on_behalf_of == f"company:{COMPANY.uscc}"
    # every later audit record of his requests says on whose behalf he acted
    client.patch("/api/v1/identity/me", {"work_unit": "示例餐饮"}, content_type="application/json")
    update = AuditRecord.objects.get(action="identity:profile_update")
    assert (update.actor, update.on_behalf_of) == (f"user:{wang.pk}", f"company:{COMPANY.uscc}")

    # revoked: the next request no longer acts for the company
    services.revoke_agent(people["rep"], authorisation)
    assert not services.agent_may_act(wang, company, FOOD)
    assert client.get("/api/v1/identity/acting").json() == {"acting_for": None}
    refused = client.post(
        "/api/v1/identity/acting", {"uscc": COMPANY.uscc}, content_type="application/json"
    )
    assert refused.json()["code"] == "identity.company_unknown"
    with pytest.raises(Conflict):
        services.revoke_agent(people["rep"], authorisation)


def test_expired_and_future_authorisations_do_not_act(
    items: dict[str, Any], people: dict[str, User], company: Company
) -> None:
    authorisation = _authorise(company, people["rep"], all_items=True, item_codes=[])
    today = timezone.localdate()
    AgentAuthorisation.objects.filter(pk=authorisation.pk).update(
        valid_from=today - dt.timedelta(days=400), valid_until=today - dt.timedelta(days=1)
    )
    assert not services.agent_may_act(people["wang"], company, FOOD)
    AgentAuthorisation.objects.filter(pk=authorisation.pk).update(
        valid_from=today + dt.timedelta(days=1), valid_until=today + dt.timedelta(days=30)
    )
    assert not services.agent_may_act(people["wang"], company, FOOD)
    request = _request(people["wang"])
    with pytest.raises(PermissionDenied) as raised:
        services.switch_identity(request, company)
    assert raised.value.code == "identity.not_authorised"
    assert "zwfw_acting_for" not in request.session


def _request(user: User) -> Any:
    from zwfw.identity.tests.conftest import make_request

    return make_request(user)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"item_codes": []}, "identity.agent_scope"),
        ({"all_items": True}, "identity.agent_scope"),
        ({"item_codes": ["XK99999000"]}, "identity.item_unknown"),
        ({"item_codes": ["<script>"]}, "identity.item_unknown"),
        ({"valid_from": dt.date(2020, 1, 1)}, "identity.agent_validity"),
        ({"valid_until": dt.date(2000, 1, 1)}, "identity.agent_validity"),
        ({"valid_until": dt.date(2100, 1, 1)}, "identity.agent_validity"),
        ({"agent_name": "王小强"}, "identity.agent_unknown"),
        ({"agent_id_number": REP.id_number, "agent_name": REP.name}, "identity.agent_self"),
        ({"agent_id_number": "511602198806150037"}, "id_number.check_digit"),
    ],
)
def test_authorisation_refusals_change_nothing(
    items: dict[str, Any], people: dict[str, User], company: Company, overrides: Any, code: str
) -> None:
    audits = AuditRecord.objects.count()
    with pytest.raises((ValidationError, NotFound)) as raised:
        _authorise(company, people["rep"], **overrides)
    assert raised.value.code == code
    assert not AgentAuthorisation.objects.exists()
    assert AuditRecord.objects.count() == audits


def test_agents_need_l3(items: dict[str, Any], people: dict[str, User], company: Company) -> None:
    User.objects.filter(pk=people["wang"].pk).update(trust_level="L2")
    with pytest.raises(ValidationError) as raised:
        _authorise(company, people["rep"])
    assert raised.value.code == "identity.agent_trust"


@pytest.mark.parametrize("who", ["wang", "li_na"])
def test_only_the_representative_authorises_and_denial_changes_nothing(
    items: dict[str, Any], people: dict[str, User], company: Company, who: str
) -> None:
    audits = AuditRecord.objects.count()
    with pytest.raises(PermissionDenied) as raised:
        _authorise(company, people[who])
    assert raised.value.code == "identity.not_legal_representative"
    assert (AgentAuthorisation.objects.count(), AuditRecord.objects.count()) == (0, audits)


def test_an_agent_may_step_down_but_not_revoke_others(
    items: dict[str, Any], people: dict[str, User], company: Company
) -> None:
    authorisation = _authorise(company, people["rep"])
    with pytest.raises(PermissionDenied):
        services.revoke_agent(people["li_na"], authorisation)
    assert AgentAuthorisation.objects.get().revoked_at is None
    services.revoke_agent(people["wang"], authorisation)
    assert AgentAuthorisation.objects.get().revoked_by == people["wang"]


def test_agents_api_masks_the_agent_and_hides_other_companies(
    items: dict[str, Any],
    people: dict[str, User],
    company: Company,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(3):
        _authorise(company, people["rep"])
    rep = Client()
    rep.force_login(people["rep"])
    with django_assert_max_num_queries(8):
        listed = rep.get(f"/api/v1/identity/companies/{COMPANY.uscc}/agents").json()
    assert len(listed["items"]) == 3
    row = listed["items"][0]
    assert row["agent_id_number"] == "511***********0036"
    assert row["agent_phone"] == "139****5678"
    outsider = Client()
    outsider.force_login(people["li_na"])
    hidden = outsider.get(f"/api/v1/identity/companies/{COMPANY.uscc}/agents")
    assert (hidden.status_code, hidden.json()["code"]) == (404, "identity.company_unknown")
    agent = Client()
    agent.force_login(people["wang"])
    assert len(agent.get("/api/v1/identity/agents/mine").json()["items"]) == 3


# --- trust levels --------------------------------------------------------------------------------


def test_items_demand_their_minimum_trust_level(
    items: dict[str, Any], people: dict[str, User], clerk: User
) -> None:
    li_na = people["li_na"]  # L3
    services.require_trust_for_item(li_na, items["food"])
    with pytest.raises(PermissionDenied) as raised:
        services.require_trust_for_item(li_na, items["other"])
    assert raised.value.code == "identity.trust_level"
    assert raised.value.details == {"required": "L4", "current": "L3"}
    services.raise_trust_level(li_na, "L4", source="window", actor=clerk)
    li_na.refresh_from_db()
    services.require_trust_for_item(li_na, items["other"])
    record = AuditRecord.objects.get(action="identity:trust_raise")
    assert (record.actor, record.after["trust_source"]) == (f"user:{clerk.pk}", "window")


def test_trust_is_never_lowered_and_only_clerks_raise_it(people: dict[str, User]) -> None:
    li_na = people["li_na"]
    assert services.raise_trust_level(li_na, "L2", source="x").trust_level == "L3"
    assert not AuditRecord.objects.filter(action="identity:trust_raise").exists()
    reviewer = staff_user("rev", Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        services.raise_trust_level(li_na, "L4", source="window", actor=reviewer)
    li_na.refresh_from_db()
    assert li_na.trust_level == "L3"
    with pytest.raises(ValidationError):
        services.raise_trust_level(li_na, "L9", source="x")
    anonymous = type("Anon", (), {"is_authenticated": False})()
    with pytest.raises(PermissionDenied):
        services.require_trust(anonymous, "L2")
