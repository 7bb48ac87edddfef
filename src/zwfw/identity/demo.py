"""Demo citizen accounts of the journeys (JOURNEYS.md), on top of the demo registries.

* 李娜 (J1): registered online, L3;
* 张伟: legal representative of 示例餐饮管理有限公司, registered online, L3; the company is
  registered by 比对 with the legal-entity registry;
* 王强 (J2): L3, agent of the company for its food-related items (食品) for one year;
* 刘德福 (J7): registered at the window by the demo clerk, L4, no mobile phone.

All sign in with their ID number (or phone) and the demo password. Loading twice changes
nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from zwfw.core import audit
from zwfw.core.demo import DEMO_PASSWORD
from zwfw.core.validators import validate_resident_id
from zwfw.identity import factors, services
from zwfw.identity.models import AgentAuthorisation, AgreementAcceptance, Company, User


def _person(journey: Any, *, level: str, source: str, phone: bool = True) -> tuple[User, bool]:
    existing = services.user_by_id_number(journey.id_number)
    if existing is not None:
        return existing, False
    resident = validate_resident_id(journey.id_number)
    user = User(
        username=f"demo-{journey.id_number[-6:]}",
        kind=User.Kind.PERSON,
        real_name=journey.name,
        id_type=services.ID_TYPE_RESIDENT,
        id_number=resident.number,
        phone=journey.phone if phone else "",
        sex=resident.sex,
        birth_date=resident.birth_date,
        ethnicity=journey.ethnicity,
        trust_level=level,
        trust_source=source,
        trust_updated_at=timezone.now(),
        password_changed_at=timezone.now(),
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    version = services.current_agreement()
    AgreementAcceptance.objects.create(
        user=user, version=version, accepted_at=timezone.now(), channel=source
    )
    audit.record(
        "identity:register",
        "identity.user",
        user.pk,
        after={**services.masked_person(user), "via": f"demo:{source}"},
    )
    return user, True


def _food_codes() -> list[str]:
    from zwfw.catalog.models import Item, ItemStatus

    return sorted(
        set(
            Item.objects.filter(status=ItemStatus.PUBLISHED, name__contains="食品")
            .exclude(basic_code="")
            .values_list("basic_code", flat=True)
        )
    )


def _company(rep: User, journey: Any) -> Company:
    # Rows written here rather than through the services, so that the whole demo load is
    # attributed to the loader in the audit log; the registry comparison is the same.
    check = factors.check_company(journey.uscc, journey.name, rep.real_name, rep.id_number)
    if not check.confirmed:  # pragma: no cover — demo registries out of step
        raise AssertionError(f"demo company does not match the registry: {check}")
    company = Company.objects.create(
        uscc=journey.uscc,
        name=journey.name,
        legal_representative=rep,
        registered_address=journey.address,
        registered_on=dt.date.fromisoformat(journey.registration_date),
        business_scope=journey.business_scope,
        trust_level="L3",
        verified_via=Company.Source.ONLINE,
        verified_at=timezone.now(),
        created_by=rep,
    )
    audit.record(
        "identity:company_register",
        "identity.company",
        company.pk,
        after={"uscc": company.uscc, "name": company.name, "via": "demo"},
    )
    return company


def _authorise(company: Company, rep: User, agent: User) -> AgentAuthorisation:
    codes = _food_codes()
    today = timezone.localdate()
    authorisation = AgentAuthorisation.objects.create(
        company=company,
        agent=agent,
        all_items=not codes,  # a node without the demo catalogue: everything
        item_codes=codes,
        valid_from=today,
        valid_until=services._add_years(today, 1) - dt.timedelta(days=1),
        created_by=rep,
    )
    audit.record(
        "identity:agent_authorise",
        "identity.agent_authorisation",
        authorisation.pk,
        after={"company": company.uscc, "agent": agent.pk, "item_codes": codes, "via": "demo"},
    )
    return authorisation


@transaction.atomic
def load_demo_accounts() -> int:
    """Create the journey accounts, the company and the agent authorisation; returns how many
    accounts were created."""
    from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE

    created = 0
    _li_na, new = _person(JOURNEY_PEOPLE["li_na"], level="L3", source="online")
    created += new
    rep, new = _person(JOURNEY_PEOPLE["company_rep"], level="L3", source="online")
    created += new
    wang, new = _person(JOURNEY_PEOPLE["wang_qiang"], level="L3", source="online")
    created += new
    _elder, new = _person(JOURNEY_PEOPLE["elderly_man"], level="L4", source="window", phone=False)
    created += new
    company = Company.objects.filter(uscc=JOURNEY_COMPANY.uscc).first()
    if company is None:
        company = _company(rep, JOURNEY_COMPANY)
    if not AgentAuthorisation.objects.filter(company=company, agent=wang).exists():
        _authorise(company, rep, wang)
    return created
