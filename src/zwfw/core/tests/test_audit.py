"""The audit chain: appending, the canonical form, and detection of every kind of tampering."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from zwfw.core import audit, context
from zwfw.core.crypto import sm3
from zwfw.core.models import AuditChainHead, AuditRecord

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[AuditRecord]:
    return [
        audit.record("core:thing:update", "thing", i, before={"n": i}, after={"n": i + 1})
        for i in range(n)
    ]


def _raw(sql: str, params: list) -> None:
    """Tamper behind the platform's back, as a database administrator could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditrecord DISABLE TRIGGER zwfw_audit_no_update")
        else:
            cursor.execute("DROP TRIGGER zwfw_audit_no_update")
        cursor.execute(sql, params)


def test_first_entry_links_to_genesis_and_hash_is_sm3_of_canonical_form() -> None:
    with context.bind(request_id="req-1", ip="10.1.2.3", actor="user:7", on_behalf_of="org:9"):
        entry = audit.record("core:thing:create", "thing", 42, after={"名称": "示例"})
    assert entry.id == 1
    assert entry.prev_hash == audit.GENESIS_HASH
    assert (entry.actor, entry.on_behalf_of, entry.request_id, entry.ip) == (
        "user:7",
        "org:9",
        "req-1",
        "10.1.2.3",
    )
    time_text = entry.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    expected_json = (
        '{"action":"core:thing:create","actor":"user:7","after":{"名称":"示例"},"before":null,'
        f'"id":1,"ip":"10.1.2.3","object_id":"42","object_type":"thing","on_behalf_of":"org:9",'
        f'"request_id":"req-1","time":"{time_text}"}}'
    )
    assert entry.entry_hash == sm3(bytes(32) + expected_json.encode()).hex()


def test_entries_chain_in_order_and_head_follows() -> None:
    entries = _append(5)
    assert [e.id for e in entries] == [1, 2, 3, 4, 5]
    for previous, current in itertools.pairwise(entries):
        assert current.prev_hash == previous.entry_hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_id, head.last_hash) == (5, entries[-1].entry_hash)
    assert audit.verify_chain() == audit.VerifyResult(True, 5)


def test_values_are_normalised_to_json() -> None:
    token = uuid.UUID("12345678-1234-5678-1234-567812345678")
    entry = audit.record(
        "core:thing:update",
        after={
            "when": dt.date(2026, 10, 1),
            "amount": Decimal("12.30"),
            "id": token,
            "tags": {"b", "a"},
            "raw": b"\x01\xff",
        },
    )
    stored = AuditRecord.objects.get(pk=entry.pk)
    assert stored.after == {
        "when": "2026-10-01",
        "amount": "12.30",
        "id": "12345678-1234-5678-1234-567812345678",
        "tags": ["a", "b"],
        "raw": "01ff",
    }
    assert audit.verify_chain().ok


def test_unrepresentable_value_is_refused_and_nothing_written() -> None:
    with pytest.raises(TypeError, match="cannot audit"):
        audit.record("core:thing:update", after={"x": object()})
    assert AuditRecord.objects.count() == 0


def test_record_rolls_back_with_the_business_transaction() -> None:
    _append(1)

    class Boom(Exception):
        pass

    def change_that_fails() -> None:
        with transaction.atomic():
            audit.record("core:thing:update", "thing", 99)
            raise Boom

    with pytest.raises(Boom):
        change_that_fails()
    assert AuditRecord.objects.count() == 1
    assert audit.record("core:thing:update").id == 2
    assert audit.verify_chain().ok


def test_database_refuses_updates() -> None:
    entry = _append(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(pk=entry.pk).update(action="core:thing:delete")
    assert AuditRecord.objects.get(pk=entry.pk).action == "core:thing:update"


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_refuses_row_deletes() -> None:
    entry = _append(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(pk=entry.pk).delete()
    assert AuditRecord.objects.count() == 1


def test_altered_content_is_reported_at_that_entry() -> None:
    _append(4)
    _raw("UPDATE core_auditrecord SET object_id = %s WHERE id = %s", ["777", 3])
    result = audit.verify_chain()
    assert result == audit.VerifyResult(False, 2, 3, "content does not match its hash")


def test_removed_entry_is_reported_as_gap() -> None:
    _append(4)
    _raw("DELETE FROM core_auditrecord WHERE id = %s", [2])
    result = audit.verify_chain()
    assert (result.ok, result.checked, result.broken_id) == (False, 1, 3)
    assert result.reason == "entries 2…2 are missing"


def test_removed_newest_entries_are_reported() -> None:
    _append(4)
    _raw("DELETE FROM core_auditrecord WHERE id >= %s", [3])
    result = audit.verify_chain()
    assert (result.ok, result.checked, result.broken_id) == (False, 2, 4)


def test_rehashed_entry_breaks_the_next_link() -> None:
    entries = _append(3)
    # An attacker who changes entry 2 and recomputes its own hash still breaks entry 3.
    _raw(
        "UPDATE core_auditrecord SET entry_hash = %s WHERE id = %s",
        [sm3(b"forged").hex(), 2],
    )
    result = audit.verify_chain()
    assert result.broken_id == 2
    assert entries[2].prev_hash != sm3(b"forged").hex()


def test_verify_audit_command_reports_ok_and_broken(capsys: pytest.CaptureFixture[str]) -> None:
    _append(3)
    call_command("verify_audit")
    assert "3 entries verified" in capsys.readouterr().out
    _raw("UPDATE core_auditrecord SET actor = %s WHERE id = %s", ["user:666", 2])
    with pytest.raises(CommandError, match="entry #2: content does not match its hash"):
        call_command("verify_audit")


def test_actor_comes_from_request_user(rf, django_user_model) -> None:
    user = django_user_model.objects.create_user(username="clerk", password="x" * 12)
    request = rf.get("/")
    request.user = user
    tokens = context.set_for_request(context.RequestContext(request_id="r"), request)
    try:
        entry = audit.record("core:thing:view")
    finally:
        context.reset(tokens)
    assert entry.actor == f"user:{user.pk}"
    assert audit.record("core:thing:view").actor == "system"


def test_record_read_names_purpose_and_fields() -> None:
    entry = audit.record_read(
        "registries.person", 5, purpose="case 123", fields=["phone", "id_number"]
    )
    assert entry.action == "registries:person:read"
    assert entry.after == {"purpose": "case 123", "fields": ["id_number", "phone"]}


def test_record_many_is_one_chain() -> None:
    rows = audit.record_many([audit.Entry("a:b:c", "t", str(i)) for i in range(50)])
    assert [r.id for r in rows] == list(range(1, 51))
    assert audit.verify_chain(chunk=7) == audit.VerifyResult(True, 50)
