"""Consumers and grants: the command, the services' validation, audit, admin pages."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from zwfw.core.errors import ValidationError
from zwfw.core.models import AuditRecord
from zwfw.registries import services
from zwfw.registries.demo import JOURNEY_PEOPLE
from zwfw.registries.models import Consumer, Grant

pytestmark = pytest.mark.django_db


def test_create_registry_consumer_prints_the_key_last(capsys) -> None:
    call_command(
        "create_registry_consumer",
        "--name",
        "人社局业务系统",
        "--client-id",
        "ga-hrss",
        "--grant",
        "population:verify:name,id_number",
        "--grant",
        "population:query:id_number,name:unmasked",
    )
    lines = capsys.readouterr().out.strip().splitlines()
    key = lines[-1]
    assert key.startswith("zrk_")
    consumer = services.consumer_for_api_key(key)
    assert consumer is not None
    assert consumer.client_id == "ga-hrss"
    assert consumer.api_key_hash == services.hash_api_key(key)
    assert key not in consumer.api_key_hash
    grants = sorted((g.mode, g.fields, g.unmasked) for g in consumer.grants.all())
    assert grants == [
        ("query", ["id_number", "name"], True),
        ("verify", ["name", "id_number"], False),
    ]
    actions = list(
        AuditRecord.objects.filter(action__startswith="registries:").values_list("action", "actor")
    )
    assert actions == [
        ("registries:consumer:create", "system:create_registry_consumer"),
        ("registries:grant:create", "system:create_registry_consumer"),
        ("registries:grant:create", "system:create_registry_consumer"),
    ]
    assert key not in str(list(AuditRecord.objects.values_list("after", flat=True)))


@pytest.mark.parametrize(
    "grant",
    [
        "population:verify:name",  # key field missing
        "population:verify:name,id_number,salary",
        "population:peek:name,id_number",
        "credit:verify:name",
        "population:verify:name,id_number:unmasked",  # unmasked only for query
        "population",
    ],
)
def test_bad_grants_create_nothing(grant: str) -> None:
    with pytest.raises(CommandError):
        call_command("create_registry_consumer", "--name", "X", "--grant", grant)
    assert not Consumer.objects.filter(name="X").exists()


def test_duplicate_names_and_client_ids() -> None:
    services.create_consumer(name="A", client_id="c1")
    with pytest.raises(ValidationError, match=r"registry\.consumer_exists"):
        services.create_consumer(name="A")
    with pytest.raises(ValidationError, match=r"registry\.client_id_taken"):
        services.create_consumer(name="B", client_id="c1")
    with pytest.raises(ValidationError, match=r"registry\.api_key"):
        services.create_consumer(name="C", api_key="short")


def test_update_and_revoke_are_audited() -> None:
    consumer, _ = services.create_consumer(name="A")
    grant = services.grant_scope(
        consumer=consumer, registry="population", mode="verify", fields=["id_number", "name"]
    )
    services.update_grant(grant, fields=["id_number", "name", "phone"])
    services.update_consumer(consumer, client_id="new-client")
    services.revoke_grant(grant)
    assert not Grant.objects.filter(consumer=consumer).exists()
    entries = list(
        AuditRecord.objects.filter(action__startswith="registries:")
        .order_by("id")
        .values_list("action", "before", "after")
    )
    assert entries[2] == (
        "registries:grant:update",
        {"fields": ["id_number", "name"]},
        {"fields": ["id_number", "name", "phone"]},
    )
    assert entries[3] == (
        "registries:consumer:update",
        {"client_id": None},
        {"client_id": "new-client"},
    )
    assert entries[4][0] == "registries:grant:revoke"
    assert entries[4][1]["fields"] == ["id_number", "name", "phone"]


@pytest.fixture
def admin_client(registry_data) -> Client:
    user = get_user_model().objects.create_superuser("root", password="x" * 12)
    client = Client()
    client.force_login(user)
    return client


def test_admin_registry_pages_are_read_only_and_masked(admin_client: Client) -> None:
    li_na = JOURNEY_PEOPLE["li_na"]
    listing = admin_client.get("/admin/registries/personrecord/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "李*" in page
    assert li_na.id_number not in page
    found = admin_client.get("/admin/registries/personrecord/", {"q": li_na.id_number.lower()})
    assert "511***********0023" in found.content.decode()
    assert "张*" not in found.content.decode()  # only the one person
    from zwfw.registries.models import PersonRecord

    record = PersonRecord.objects.first()
    detail = admin_client.get(f"/admin/registries/personrecord/{record.pk}/change/")
    assert detail.status_code == 200
    text = detail.content.decode()
    for secret in (li_na.id_number, li_na.phone, li_na.bank_card, li_na.social_security_card):
        assert secret not in text
    assert admin_client.get("/admin/registries/personrecord/add/").status_code == 403
    assert admin_client.get("/admin/registries/legalentityrecord/").status_code == 200


def test_admin_creates_consumer_and_grants_through_services(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/registries/consumer/add/",
        {
            "name": "公积金中心系统",
            "kind": "client",
            "client_id": "",
            "is_active": "on",
            "grants-TOTAL_FORMS": "1",
            "grants-INITIAL_FORMS": "0",
            "grants-MIN_NUM_FORMS": "0",
            "grants-MAX_NUM_FORMS": "1000",
            "grants-0-registry": "population",
            "grants-0-mode": "verify",
            "grants-0-field_names": "id_number, name",
            "grants-0-valid_until_0": "",
            "grants-0-valid_until_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    consumer = Consumer.objects.get(name="公积金中心系统")
    assert [(g.mode, g.fields) for g in consumer.grants.all()] == [
        ("verify", ["id_number", "name"])
    ]
    assert consumer.grants.get().created_by.username == "root"
    actions = list(
        AuditRecord.objects.filter(action__startswith="registries:consumer").values_list(
            "action", "actor"
        )
    )
    assert actions == [
        ("registries:consumer:create", f"user:{consumer.grants.get().created_by.pk}")
    ]
    bad = admin_client.post(
        f"/admin/registries/consumer/{consumer.pk}/change/",
        {
            "name": "公积金中心系统",
            "kind": "client",
            "is_active": "on",
            "grants-TOTAL_FORMS": "1",
            "grants-INITIAL_FORMS": "0",
            "grants-MIN_NUM_FORMS": "0",
            "grants-MAX_NUM_FORMS": "1000",
            "grants-0-registry": "population",
            "grants-0-mode": "verify",
            "grants-0-field_names": "name",
        },
    )
    assert bad.status_code == 200
    assert "须包含查询标识" in bad.content.decode()
    assert consumer.grants.count() == 1


def test_admin_edits_and_deletes_grants_through_services(admin_client: Client) -> None:
    consumer, _ = services.create_consumer(name="医保局系统")
    grant = services.grant_scope(
        consumer=consumer, registry="population", mode="verify", fields=["id_number", "name"]
    )
    other = services.grant_scope(
        consumer=consumer, registry="population", mode="compare", fields=["id_number", "phone"]
    )
    form = {
        "name": "医保局系统",
        "kind": "client",
        "is_active": "on",
        "grants-TOTAL_FORMS": "2",
        "grants-INITIAL_FORMS": "2",
        "grants-MIN_NUM_FORMS": "0",
        "grants-MAX_NUM_FORMS": "1000",
        "grants-0-id": str(grant.pk),
        "grants-0-consumer": str(consumer.pk),
        "grants-0-registry": "population",
        "grants-0-mode": "verify",
        "grants-0-field_names": "id_number,name,sex",
        "grants-1-id": str(other.pk),
        "grants-1-consumer": str(consumer.pk),
        "grants-1-registry": "population",
        "grants-1-mode": "compare",
        "grants-1-field_names": "id_number,phone",
        "grants-1-DELETE": "on",
    }
    response = admin_client.post(f"/admin/registries/consumer/{consumer.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [(g.mode, g.fields) for g in consumer.grants.all()] == [
        ("verify", ["id_number", "name", "sex"])
    ]
    actions = set(
        AuditRecord.objects.filter(action__startswith="registries:grant").values_list(
            "action", flat=True
        )
    )
    assert {"registries:grant:update", "registries:grant:revoke"} <= actions
