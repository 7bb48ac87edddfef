"""Personal data at rest: no plaintext in the registry tables, indexes over canonical values."""

from __future__ import annotations

import pytest
from django.db import connection

from zwfw.core import pii
from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE
from zwfw.registries.models import LegalEntityRecord, PersonRecord
from zwfw.registries.schema import LEGAL_ENTITY, POPULATION

pytestmark = pytest.mark.usefixtures("registry_data")

LI_NA = JOURNEY_PEOPLE["li_na"]
REP = JOURNEY_PEOPLE["company_rep"]


def raw_rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 — a model's own table name
        return cursor.fetchall()


def test_population_table_holds_no_plaintext() -> None:
    text = repr(raw_rows(PersonRecord._meta.db_table))
    secrets = [
        LI_NA.name,
        LI_NA.id_number,
        LI_NA.id_number[:14],
        LI_NA.phone,
        LI_NA.social_security_card,
        LI_NA.bank_card,
        LI_NA.housing_fund_account,
        "建设路",
        JOURNEY_PEOPLE["wang_qiang"].driving_licence_file,
    ]
    assert [s for s in secrets if s in text] == []
    # The plain columns are what the design says is plain.
    assert "511602" in text
    assert "1992-01-20" in text or "1992, 1, 20" in text


def test_legal_entity_table_keeps_public_data_plain_and_representative_encrypted() -> None:
    text = repr(raw_rows(LegalEntityRecord._meta.db_table))
    assert JOURNEY_COMPANY.uscc in text
    assert JOURNEY_COMPANY.name in text
    assert REP.name not in text
    assert REP.id_number not in text


def test_encrypted_columns_decrypt_and_indexes_match_the_canonical_values() -> None:
    index = POPULATION.index_of("id_number", LI_NA.id_number)
    person = PersonRecord.objects.get(id_number_index=index)
    assert (person.name, person.id_number, person.phone) == ("李娜", LI_NA.id_number, LI_NA.phone)
    assert (person.sex, person.birth_date.isoformat()) == ("2", "1992-01-20")
    with connection.cursor() as cursor:
        table = PersonRecord._meta.db_table
        sql = f"SELECT name, phone, driving_licence_file FROM {table} WHERE id = %s"  # noqa: S608
        cursor.execute(sql, [person.pk])
        name, phone, licence = cursor.fetchone()
    assert name.startswith(pii.PREFIX)
    assert phone.startswith(pii.PREFIX)
    assert licence == ""  # 李娜 has no driving licence: nothing stored, empty index
    assert person.driving_licence_file_index == ""
    assert person.name_index == POPULATION.index_of("name", "李娜")
    # Indexes are purpose-bound: the same text indexes differently per field.
    assert POPULATION.index_of("name", "李娜") != LEGAL_ENTITY.index_of("legal_rep_name", "李娜")


def test_encrypted_fields_cannot_be_filtered_directly() -> None:
    with pytest.raises(TypeError, match="blind index"):
        PersonRecord.objects.filter(phone=LI_NA.phone).count()
