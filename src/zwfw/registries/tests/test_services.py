"""核验 / 比对 / 查询 through the services: results, scope checks, audit, query counts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zwfw.core.errors import NotFound, PermissionDenied, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.registries import services
from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE
from zwfw.registries.models import Grant, PersonRecord

pytestmark = pytest.mark.usefixtures("registry_data")

LI_NA = JOURNEY_PEOPLE["li_na"]
REP = JOURNEY_PEOPLE["company_rep"]
ALL_POPULATION = [
    "name",
    "id_number",
    "sex",
    "ethnicity",
    "birth_date",
    "household_division",
    "address",
    "phone",
    "social_security_card",
    "bank_card",
    "housing_fund_account",
    "driving_licence_file",
    "status",
]
#: Claims that are all true for 李娜.
LI_NA_CLAIMS = {
    "name": "李娜",
    "id_number": LI_NA.id_number,
    "sex": "2",
    "ethnicity": "01",
    "birth_date": "1992-01-20",
    "household_division": "511602",
    "address": LI_NA.address,
    "phone": LI_NA.phone,
    "social_security_card": LI_NA.social_security_card,
    "bank_card": LI_NA.bank_card,
    "housing_fund_account": LI_NA.housing_fund_account,
    "status": "living",
}
WRONG = {
    "name": "李娜娜",
    "id_number": "511602199201200031",
    "sex": "1",
    "ethnicity": "15",
    "birth_date": "1992-01-21",
    "household_division": "511603",
    "address": "四川省广安市广安区建设路13号",
    "phone": "13800138001",
    "social_security_card": "J51160224",
    "bank_card": "6217008511602000020",
    "housing_fund_account": "511602000024",
    "status": "deceased",
}


@pytest.fixture
def verifier(make_consumer):
    return make_consumer(("population", "verify", ALL_POPULATION))


@pytest.fixture
def comparer(make_consumer):
    return make_consumer(("population", "compare", ALL_POPULATION))


def audit_entries(action_prefix: str = "registries:") -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action__startswith=action_prefix).order_by("id"))


# --- 核验 ------------------------------------------------------------------------------------


def test_verify_true_with_every_factor_at_once(verifier) -> None:
    assert services.verify(verifier, "population", LI_NA.id_number, LI_NA_CLAIMS) is True


@pytest.mark.parametrize("field", sorted(WRONG))
def test_verify_each_factor_true_alone_and_false_when_wrong(verifier, field: str) -> None:
    assert services.verify(verifier, "population", LI_NA.id_number, {field: LI_NA_CLAIMS[field]})
    assert not services.verify(verifier, "population", LI_NA.id_number, {field: WRONG[field]})
    # One wrong factor among right ones makes the whole answer false, without saying which.
    mixed = {**LI_NA_CLAIMS, field: WRONG[field]}
    assert services.verify(verifier, "population", LI_NA.id_number, mixed) is False


def test_verify_normalises_claims(verifier) -> None:
    claims = {
        "name": " 李 娜\u3000",
        "phone": "+86 138-0013-8000",
        "social_security_card": "j5116 0223",
        "bank_card": "6217 0085 1160 2000 012",
        "sex": "女",
        "ethnicity": "汉族",
        "birth_date": "19920120",
    }
    assert services.verify(verifier, "population", LI_NA.id_number, claims) is True
    full_width = {"phone": "１３８００１３８０００", "name": "李娜"}
    assert services.verify(verifier, "population", LI_NA.id_number, full_width) is True


def test_verify_lower_case_x_in_key_and_claim(make_consumer) -> None:
    consumer = make_consumer(("population", "verify", ["name", "id_number"]))
    person = {"name": "欧阳·娜娜", "id_number": "51160219900101068X"}
    assert person["id_number"][-1] == "X"
    from zwfw.registries import loading

    loading.load_rows("population", [(2, person)], strict=True)
    lower = person["id_number"].lower()
    assert services.verify(consumer, "population", lower, {"name": "欧阳•娜娜", "id_number": lower})


def test_verify_unknown_person_is_false_and_absent_value_is_false(verifier) -> None:
    other = "511602199001010014"
    assert services.verify(verifier, "population", other, {"name": "李娜"}) is False
    elderly = JOURNEY_PEOPLE["elderly_man"]  # has no phone in the registry
    assert (
        services.verify(verifier, "population", elderly.id_number, {"phone": "13800138000"})
        is False
    )


def test_verify_does_not_decrypt(verifier, monkeypatch) -> None:
    from zwfw.core import pii

    def refuse(*args, **kwargs):
        raise AssertionError("核验 must not decrypt")

    monkeypatch.setattr(pii, "decrypt_text", refuse)
    assert services.verify(verifier, "population", LI_NA.id_number, LI_NA_CLAIMS) is True
    assert services.compare(
        _compare_consumer(verifier), "population", LI_NA.id_number, {"phone": LI_NA.phone}
    ) == {"phone": "match"}


def _compare_consumer(consumer):
    services.grant_scope(
        consumer=consumer, registry="population", mode="compare", fields=["id_number", "phone"]
    )
    return consumer


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("511602199201200024", "id_number.check_digit"),
        ("51160219920120002", "id_number.length"),
        ("511602199213200023", "id_number.birth_date"),
        ("991602199201200023", "id_number.province"),
        ("  ", "registry.key"),
    ],
)
def test_bad_key_is_a_validation_error(verifier, key: str, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.verify(verifier, "population", key, {"name": "李娜"})
    assert caught.value.code == code


def test_unknown_fields_list_the_allowed_ones(verifier) -> None:
    with pytest.raises(ValidationError) as caught:
        services.verify(verifier, "population", LI_NA.id_number, {"salary": "1", "name": "李娜"})
    assert caught.value.code == "registry.unknown_field"
    assert caught.value.details["unknown"] == ["salary"]
    assert caught.value.details["allowed"] == ALL_POPULATION
    with pytest.raises(ValidationError, match=r"registry\.unknown"):
        services.verify(verifier, "credit", LI_NA.id_number, {"name": "李娜"})
    for claims in ({}, [], {"name": 1}, {"name": "x" * 5000}):
        with pytest.raises(ValidationError):
            services.verify(verifier, "population", LI_NA.id_number, claims)  # type: ignore[arg-type]


# --- 比对 ------------------------------------------------------------------------------------


def test_compare_per_field(comparer) -> None:
    claims = {
        "name": "李娜",
        "phone": "13800138001",
        "driving_licence_file": "511600000000",  # 李娜 has none
        "birth_date": "1992-01-20",
        "sex": "男",
    }
    assert services.compare(comparer, "population", LI_NA.id_number, claims) == {
        "name": "match",
        "phone": "mismatch",
        "driving_licence_file": "absent",
        "birth_date": "match",
        "sex": "mismatch",
    }


def test_compare_unknown_record_is_all_absent(comparer) -> None:
    result = services.compare(
        comparer, "population", "511602199001010014", {"name": "李娜", "phone": "13800138000"}
    )
    assert result == {"name": "absent", "phone": "absent"}


def test_compare_unparseable_claim_is_a_mismatch(comparer) -> None:
    result = services.compare(
        comparer, "population", LI_NA.id_number, {"birth_date": "昨天", "phone": "abc", "sex": "?"}
    )
    assert result == {"birth_date": "mismatch", "phone": "mismatch", "sex": "mismatch"}


def test_legal_entity_verify_and_compare(make_consumer) -> None:
    consumer = make_consumer(
        ("legal_entity", "verify", ["uscc", "name", "legal_rep_name", "legal_rep_id_number"]),
        ("legal_entity", "compare", ["uscc", "legal_rep_name", "legal_rep_id_number", "status"]),
    )
    uscc = JOURNEY_COMPANY.uscc
    right = {
        "name": "示例餐饮管理有限公司",
        "legal_rep_name": REP.name,
        "legal_rep_id_number": REP.id_number,
    }
    assert services.verify(consumer, "legal_entity", uscc.lower(), right)
    assert not services.verify(consumer, "legal_entity", uscc, {**right, "legal_rep_name": "王强"})
    assert services.compare(
        consumer, "legal_entity", uscc, {"legal_rep_name": "王强", "status": "存续"}
    ) == {"legal_rep_name": "mismatch", "status": "match"}
    with pytest.raises(ValidationError) as caught:
        services.verify(consumer, "legal_entity", uscc[:-1] + "0", right)
    assert caught.value.code == "uscc.check_digit"
    entry = audit_entries("registries:legal_entity:compare")[-1]
    from zwfw.registries.models import LegalEntityRecord

    assert entry.object_id == str(LegalEntityRecord.objects.get(uscc=uscc).pk)
    assert len(entry.after["key_ref"]) == 16
    assert uscc not in str(entry.after)


# --- 查询 ------------------------------------------------------------------------------------


def test_query_returns_only_requested_granted_fields_masked(make_consumer) -> None:
    consumer = make_consumer(
        ("population", "query", ["id_number", "name", "phone", "sex", "address"])
    )
    record = services.query(consumer, "population", LI_NA.id_number, ["name", "phone", "sex"])
    assert record == {"name": "李*", "phone": "138****8000", "sex": "2"}
    record = services.query(consumer, "population", LI_NA.id_number, ["address", "id_number"])
    assert record == {
        "address": "四川省广安市" + "*" * (len(LI_NA.address) - 6),
        "id_number": "511***********0023",
    }


def test_query_unmasked_grant_returns_clear_values_for_its_fields_only(make_consumer) -> None:
    consumer = make_consumer(
        ("population", "query", ["id_number", "name"], True),
        ("population", "query", ["id_number", "phone"]),
    )
    record = services.query(consumer, "population", LI_NA.id_number, ["name", "phone", "id_number"])
    assert record == {"name": "李娜", "phone": "138****8000", "id_number": LI_NA.id_number}
    entry = audit_entries("registries:population:query")[-1]
    assert entry.after["unmasked"] == ["id_number", "name"]


def test_query_unknown_record_is_not_found_and_audited(make_consumer) -> None:
    consumer = make_consumer(("population", "query", ["id_number", "name"]))
    with pytest.raises(NotFound) as caught:
        services.query(consumer, "population", "511602199001010014", ["name"])
    assert caught.value.code == "registry.not_found"
    entry = audit_entries("registries:population:query")[-1]
    assert entry.after["found"] is False
    assert entry.object_id == ""


def test_query_legal_entity_public_fields_in_clear(make_consumer) -> None:
    consumer = make_consumer(
        ("legal_entity", "query", ["uscc", "name", "legal_rep_name", "registration_date"])
    )
    record = services.query(
        consumer,
        "legal_entity",
        JOURNEY_COMPANY.uscc,
        ["name", "legal_rep_name", "registration_date"],
    )
    assert record == {
        "name": "示例餐饮管理有限公司",
        "legal_rep_name": "张*",
        "registration_date": "2019-05-16",
    }


# --- scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["verify", "compare", "query"])
def test_scope_denied_per_mode_names_missing_fields_and_is_audited(
    make_consumer, mode: str
) -> None:
    # Granted every field but in the other modes only, and name + id_number in this one.
    others = [m for m in ("verify", "compare", "query") if m != mode]
    consumer = make_consumer(
        *[("population", m, ALL_POPULATION) for m in others],
        ("population", mode, ["name", "id_number"]),
    )
    call = {
        "verify": lambda: services.verify(
            consumer, "population", LI_NA.id_number, {"name": "李娜", "address": "x"}
        ),
        "compare": lambda: services.compare(
            consumer, "population", LI_NA.id_number, {"name": "李娜", "address": "x"}
        ),
        "query": lambda: services.query(
            consumer, "population", LI_NA.id_number, ["name", "address"]
        ),
    }[mode]
    before = AuditRecord.objects.count()
    with CaptureQueriesContext(connection) as queries, pytest.raises(PermissionDenied) as caught:
        call()
    assert caught.value.code == "registry.scope"
    assert caught.value.details == {"registry": "population", "mode": mode, "missing": ["address"]}
    assert "户籍地址" in caught.value.message
    # Nothing was looked up: no query touched the registry table.
    table = PersonRecord._meta.db_table
    assert not [q for q in queries.captured_queries if table in q["sql"]]
    entries = list(AuditRecord.objects.filter(id__gt=before))
    assert [e.action for e in entries] == [f"registries:population:{mode}_denied"]
    assert entries[0].after["missing"] == ["address"]
    assert entries[0].after["consumer"] == consumer.name


def test_key_field_must_be_granted(make_consumer) -> None:
    consumer = make_consumer()
    Grant.objects.create(consumer=consumer, registry="population", mode="verify", fields=["name"])
    with pytest.raises(PermissionDenied) as caught:
        services.verify(consumer, "population", LI_NA.id_number, {"name": "李娜"})
    assert caught.value.details["missing"] == ["id_number"]


def test_denied_before_key_validation(make_consumer) -> None:
    consumer = make_consumer()
    with pytest.raises(PermissionDenied):
        services.verify(consumer, "population", "not an id", {"name": "李娜"})


def test_expired_grant_and_inactive_consumer_are_denied(make_consumer) -> None:
    consumer = make_consumer(("population", "verify", ["name", "id_number"]))
    assert services.verify(consumer, "population", LI_NA.id_number, {"name": "李娜"})
    Grant.objects.filter(consumer=consumer).update(
        valid_until=timezone.now() - dt.timedelta(seconds=1)
    )
    with pytest.raises(PermissionDenied, match=r"registry\.scope"):
        services.verify(consumer, "population", LI_NA.id_number, {"name": "李娜"})
    Grant.objects.filter(consumer=consumer).update(
        valid_until=timezone.now() + dt.timedelta(days=1)
    )
    assert services.verify(consumer, "population", LI_NA.id_number, {"name": "李娜"})
    services.update_consumer(consumer, is_active=False)
    with pytest.raises(PermissionDenied) as caught:
        services.verify(consumer, "population", LI_NA.id_number, {"name": "李娜"})
    assert caught.value.code == "registry.consumer_inactive"


# --- audit -----------------------------------------------------------------------------------


def test_every_call_is_audited_without_values(verifier, comparer, make_consumer) -> None:
    querier = make_consumer(("population", "query", ALL_POPULATION, True))
    start = AuditRecord.objects.count()
    services.verify(verifier, "population", LI_NA.id_number, LI_NA_CLAIMS)
    services.verify(verifier, "population", LI_NA.id_number, WRONG)
    services.compare(comparer, "population", LI_NA.id_number, LI_NA_CLAIMS)
    services.query(querier, "population", LI_NA.id_number, ALL_POPULATION)
    with pytest.raises(PermissionDenied):
        services.query(verifier, "population", LI_NA.id_number, ["address"])
    entries = list(AuditRecord.objects.filter(id__gt=start).order_by("id"))
    assert [e.action for e in entries] == [
        "registries:population:verify",
        "registries:population:verify",
        "registries:population:compare",
        "registries:population:query",
        "registries:population:query_denied",
    ]
    person = PersonRecord.objects.get(
        id_number_index=services.POPULATION.index_of("id_number", LI_NA.id_number)
    )
    assert entries[0].object_type == "registries.population"
    assert entries[0].object_id == str(person.pk)
    assert entries[0].after["result"] is True
    assert entries[1].after["result"] is False
    assert entries[0].after["fields"] == sorted(LI_NA_CLAIMS)
    assert entries[2].after["result"]["phone"] == "match"
    # The key is referred to by a keyed pseudonym that equals the record's index prefix.
    assert entries[0].after["key_ref"] == person.id_number_index[:16]
    assert entries[4].after["key_ref"] == person.id_number_index[:16]
    secrets = {str(v) for v in (*LI_NA_CLAIMS.values(), *WRONG.values())} - {
        "1",
        "2",
        "01",
        "15",
        "living",
        "deceased",
        "511602",
        "511603",
    }
    secrets |= {"李娜", LI_NA.id_number, LI_NA.phone, LI_NA.id_number[:17]}
    for entry in entries:
        text = json.dumps([entry.before, entry.after, entry.object_id], ensure_ascii=False)
        leaked = [s for s in secrets if s in text]
        assert not leaked, (entry.action, leaked)


# --- query counts ----------------------------------------------------------------------------


def _registry_queries(captured: list[dict]) -> list[str]:
    """Statements other than the audit append (its own 3 statements) and savepoints."""
    return [
        q["sql"]
        for q in captured
        if "core_audit" not in q["sql"] and "SAVEPOINT" not in q["sql"].upper()
    ]


@pytest.mark.parametrize("mode", ["verify", "compare", "query"])
def test_query_count_per_call_is_constant(make_consumer, mode: str) -> None:
    consumer = make_consumer(
        ("population", mode, ALL_POPULATION),
        ("population", mode, ["id_number", "name"]),  # several grants: still one query
    )
    call = {
        "verify": lambda claims: services.verify(consumer, "population", LI_NA.id_number, claims),
        "compare": lambda claims: services.compare(consumer, "population", LI_NA.id_number, claims),
        "query": lambda claims: services.query(
            consumer, "population", LI_NA.id_number, list(claims)
        ),
    }[mode]
    for claims in ({"name": "李娜"}, LI_NA_CLAIMS):
        with CaptureQueriesContext(connection) as queries:
            call(claims)
        own = _registry_queries(queries.captured_queries)
        assert len(own) == 2, own  # the grants, the record
        assert len(queries.captured_queries) <= 2 + 3 + 2  # + audit append (+ savepoint pair)


# --- platform checks (registration) ----------------------------------------------------------


def test_verify_person_factors_for_registration() -> None:
    result = services.verify_person_factors(
        LI_NA.id_number,
        "李娜",
        {"phone": LI_NA.phone, "social_security_card": LI_NA.social_security_card},
    )
    assert result == services.FactorResult(
        found=True,
        living=True,
        name_matches=True,
        matched=("phone", "social_security_card"),
    )
    assert result.confirmed()
    wrong = services.verify_person_factors(
        LI_NA.id_number, "李娜", {"phone": "13900000000", "driving_licence_file": "511600000001"}
    )
    assert (wrong.mismatched, wrong.absent, wrong.confirmed()) == (
        ("phone",),
        ("driving_licence_file",),
        False,
    )
    unknown = services.verify_person_factors("511602199001010014", "李娜", {"phone": LI_NA.phone})
    assert (unknown.found, unknown.confirmed(1)) == (False, False)
    entry = audit_entries("registries:population:compare")[-1]
    assert entry.after["consumer"] == services.PLATFORM_CONSUMER
    with pytest.raises(ValidationError, match=r"registry\.unknown_field"):
        services.verify_person_factors(LI_NA.id_number, "李娜", {"address": "x"})


def test_deceased_person_is_not_confirmed() -> None:
    from zwfw.registries import loading

    dead = {**JOURNEY_PEOPLE["elderly_man"].row(), "status": "deceased"}
    loading.load_rows("population", [(2, dead)], strict=True)
    result = services.verify_person_factors(
        dead["id_number"], dead["name"], {"social_security_card": dead["social_security_card"]}
    )
    assert (result.found, result.living, result.confirmed(1)) == (True, False, False)


def test_verify_legal_representative() -> None:
    check = services.verify_legal_representative(JOURNEY_COMPANY.uscc, REP.name, REP.id_number)
    assert check.confirmed
    assert not services.verify_legal_representative(
        JOURNEY_COMPANY.uscc, "王强", REP.id_number
    ).confirmed
    missing = services.verify_legal_representative(_other_uscc(), REP.name, REP.id_number)
    assert (missing.found, missing.confirmed) == (False, False)


def _other_uscc() -> str:
    from zwfw.core.validators import org_code_check_char, uscc_check_char

    org = "MA6CXY3Q"
    body = "91511602" + org + org_code_check_char(org)
    return body + uscc_check_char(body)


def test_platform_consumer_is_recreated_when_missing() -> None:
    from zwfw.registries.models import Consumer

    Consumer.objects.filter(name=services.PLATFORM_CONSUMER).delete()
    assert services.verify_person_factors(
        LI_NA.id_number, "李娜", {"phone": LI_NA.phone}
    ).confirmed(1)
    platform = Consumer.objects.get(name=services.PLATFORM_CONSUMER)
    assert sorted((g.registry, g.mode) for g in platform.grants.all()) == [
        ("legal_entity", "compare"),
        ("legal_entity", "verify"),
        ("population", "compare"),
        ("population", "verify"),
    ]
