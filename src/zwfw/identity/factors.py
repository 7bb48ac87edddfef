"""The identity app's view of the base registries: 核验 of a person's factors, 比对 of a
company's legal representative. A small adapter, so that registration rules do not depend
on how ``zwfw.registries`` is shaped inside.

Each call runs as the registries' built-in ``platform`` consumer and is audited there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Factors besides ID number and name (SPEC §6); the phone counts only with an SMS code.
PERSON_FACTORS: dict[str, str] = {
    "phone": "手机号码",
    "social_security_card": "社会保障卡号",
    "bank_card": "银行卡号",
    "housing_fund_account": "住房公积金账号",
    "driving_licence_file": "驾驶证档案编号",
}
MIN_FACTORS = 2


@dataclass(frozen=True)
class PersonCheck:
    """The registry's answer: ``confirmed`` when found, living, name matching, at least
    ``MIN_FACTORS`` factors matching and none contradicting."""

    confirmed: bool
    matched: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompanyCheck:
    """``confirmed``: the USCC exists, the company is active, the legal representative (name
    and ID number) and the company name match."""

    confirmed: bool
    found: bool = False
    active: bool = False
    legal_rep_matches: bool = False
    name_matches: bool = False


def check_person(id_number: str, name: str, factors: Mapping[str, str]) -> PersonCheck:
    """核验 of a registering person against the population registry."""
    from zwfw.registries import services as registries

    result = registries.verify_person_factors(id_number, name, dict(factors))
    return PersonCheck(
        confirmed=result.confirmed(MIN_FACTORS),
        matched=tuple(result.matched),
        mismatched=tuple(result.mismatched),
    )


def check_identity(id_number: str, name: str) -> bool:
    """核验 of name and ID number alone (a clerk holding the ID card): found, living, matching."""
    from zwfw.registries import services as registries

    result = registries.verify_person_factors(id_number, name, {})
    return bool(result.found and result.living and result.name_matches)


def check_company(uscc: str, name: str, rep_name: str, rep_id_number: str) -> CompanyCheck:
    """比对 of a company's USCC, name and legal representative with the legal-entity registry."""
    from zwfw.registries import services as registries

    entity = registries.verify_legal_representative(uscc, rep_name, rep_id_number)
    name_matches = False
    if entity.found:
        outcome = registries.compare(
            registries.platform_consumer(), "legal_entity", uscc, {"name": name}
        )
        name_matches = outcome.get("name") == registries.MATCH
    return CompanyCheck(
        confirmed=entity.confirmed and name_matches,
        found=entity.found,
        active=entity.active,
        legal_rep_matches=entity.legal_rep_matches,
        name_matches=name_matches,
    )
