"""Synthetic demo data: valid, deterministic, the journey persons fixed, loading idempotent."""

from __future__ import annotations

import datetime as dt
from itertools import islice

import pytest

from zwfw.core.validators import validate_mobile, validate_resident_id, validate_uscc
from zwfw.registries import demo, loading, services
from zwfw.registries.models import Consumer, LegalEntityRecord, PersonRecord


def test_journey_identities_are_valid_and_as_the_journeys_say() -> None:
    li_na = validate_resident_id(demo.JOURNEY_PEOPLE["li_na"].id_number)
    assert (li_na.sex, li_na.division_code) == ("2", "511602")
    assert 2026 - li_na.birth_date.year == 34
    elderly = validate_resident_id(demo.JOURNEY_PEOPLE["elderly_man"].id_number)
    assert (elderly.sex, elderly.division_code, 2026 - elderly.birth_date.year) == (
        "1",
        "511602",
        80,
    )
    assert validate_resident_id(demo.JOURNEY_PEOPLE["wang_qiang"].id_number).sex == "1"
    assert validate_mobile(demo.JOURNEY_PEOPLE["li_na"].phone) == "13800138000"
    company = validate_uscc(demo.JOURNEY_COMPANY.uscc)
    assert (company.registration_authority, company.category, company.division_code) == (
        "9",
        "1",
        "511602",
    )
    for person in demo.JOURNEY_PEOPLE.values():
        if person.bank_card:
            assert loading.luhn_ok(person.bank_card)
    ids = [p.id_number for p in demo.JOURNEY_PEOPLE.values()]
    assert len(set(ids)) == len(ids)


def test_generation_is_deterministic_and_valid() -> None:
    first = list(demo.people(300))
    assert first == list(demo.people(300))
    today = dt.date(2026, 11, 1)
    records = [loading.person_record(row, today) for row in first]
    assert len({r["id_number"] for r in records}) == 300
    phones = [r["phone"] for r in records if r["phone"]]
    assert len(set(phones)) == len(phones)
    companies = list(demo.companies(50, representatives=first))
    assert len(companies) >= 45
    for row in companies:
        loading.entity_record(row, today)
    assert len(list(islice(demo.people(10, journey=False), 10))) == 10


@pytest.mark.django_db
def test_demo_load_is_idempotent_and_walkable() -> None:
    created = demo.load_demo_registries(people_count=200, companies_count=30)
    people, companies = PersonRecord.objects.count(), LegalEntityRecord.objects.count()
    assert people == 200
    assert companies >= 25
    assert created == people + companies
    assert demo.load_demo_registries(people_count=200, companies_count=30) == 0
    hrss = Consumer.objects.get(name=demo.HRSS_CONSUMER)
    assert services.consumer_for_api_key(demo.DEMO_API_KEY) == hrss
    assert hrss.client_id == demo.HRSS_CLIENT_ID
    li_na = demo.JOURNEY_PEOPLE["li_na"]
    assert services.verify(hrss, "population", li_na.id_number, {"name": "李娜"})
    check = services.verify_legal_representative(
        demo.JOURNEY_COMPANY.uscc,
        demo.JOURNEY_PEOPLE["company_rep"].name,
        demo.JOURNEY_PEOPLE["company_rep"].id_number,
    )
    assert check.confirmed
