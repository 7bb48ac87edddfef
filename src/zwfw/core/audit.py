"""Tamper-evident audit log: an append-only table chained with SM3.

Each entry's hash is ``SM3(previous hash || canonical JSON of the entry)``; its id is the
previous id + 1, so a removed, altered, inserted or reordered entry breaks the chain at a
precise place, which ``zwfw verify_audit`` reports. Appending locks the single chain-head row
for the rest of the caller's transaction: concurrent writers take turns and the chain never
forks. Call :func:`record` inside the transaction that makes the change it describes, so both
commit or neither does.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from zwfw.core import context, metrics
from zwfw.core.crypto import sm3
from zwfw.core.models import AuditChainHead, AuditRecord

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


def jsonable(value: Any) -> Any:
    """The JSON form a value takes in the audit table (and so in its hash)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


def _time_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_CONTENT = (
    "id",
    "created_at",
    "actor",
    "on_behalf_of",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "request_id",
    "ip",
)
_COLUMNS = (*_CONTENT, "prev_hash", "entry_hash")


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """Canonical JSON of an entry's content columns: sorted keys, no spaces, UTF-8."""
    document = {name: entry[name] for name in _CONTENT if name != "created_at"}
    document["time"] = _time_text(entry["created_at"])
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    return sm3(bytes.fromhex(prev_hash) + canonical).hex()


def current_actor() -> str:
    """``user:<pk>`` of the signed-in user, the bound actor (tasks, CLI), or ``system``."""
    ctx = context.current()
    if ctx.actor:
        return ctx.actor
    user = context.current_user()
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return SYSTEM_ACTOR


@dataclass(frozen=True)
class Entry:
    """One entry to append (see :func:`record_many`)."""

    action: str
    object_type: str = ""
    object_id: str = ""
    before: Any = None
    after: Any = None


def _lock_head(cursor: Any) -> tuple[int, str]:
    """Lock the chain head for the rest of the transaction and read it.

    On PostgreSQL ``FOR UPDATE`` makes concurrent appenders wait here; SQLite transactions
    are ``BEGIN IMMEDIATE`` (see settings), which already serialises writers.
    """
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    table = AuditChainHead._meta.db_table
    cursor.execute(f"SELECT last_id, last_hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
    row = cursor.fetchone()
    if row is None:
        # First use on a database migrated without the head row (it is created by
        # migration 0002); a racing creator fails on the primary key and retries.
        AuditChainHead.objects.create(pk=1, last_id=0, last_hash=GENESIS_HASH)
        return 0, GENESIS_HASH
    return int(row[0]), str(row[1])


def _prep(field_name: str, value: Any) -> Any:
    field = AuditRecord._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    return field.get_db_prep_save(value, connection)


def record_many(
    entries: Iterable[Entry], *, actor: str | None = None, on_behalf_of: str | None = None
) -> list[AuditRecord]:
    """Append several entries in one go (same actor and request); returns the saved rows.

    Raw SQL on purpose: the audit append is on every write path, and the ORM's per-query
    overhead was two thirds of its cost (see bench/bench_audit.py).
    """
    ctx = context.current()
    who = actor if actor is not None else current_actor()
    for_whom = on_behalf_of if on_behalf_of is not None else ctx.on_behalf_of
    pending = list(entries)
    if not pending:
        return []
    rows: list[AuditRecord] = []
    params: list[tuple[Any, ...]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        last_id, last_hash = _lock_head(cursor)
        now = timezone.now()
        db_now = _prep("created_at", now)
        for entry in pending:
            last_id += 1
            content = {
                "id": last_id,
                "created_at": now,
                "actor": who,
                "on_behalf_of": for_whom,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": str(entry.object_id),
                "before": jsonable(entry.before),
                "after": jsonable(entry.after),
                "request_id": ctx.request_id,
                "ip": ctx.ip,
            }
            entry_hash = chain_hash(last_hash, canonical_bytes(content))
            row = AuditRecord(**content, prev_hash=last_hash, entry_hash=entry_hash)
            row._state.adding = False
            rows.append(row)
            prepared = {**content, "prev_hash": last_hash, "entry_hash": entry_hash}
            prepared["created_at"] = db_now
            prepared["before"] = _prep("before", content["before"])
            prepared["after"] = _prep("after", content["after"])
            params.append(tuple(prepared[name] for name in _COLUMNS))
            last_hash = entry_hash
        table = AuditRecord._meta.db_table
        placeholders = ", ".join(["%s"] * len(_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
            params,
        )
        cursor.execute(
            f"UPDATE {AuditChainHead._meta.db_table} SET last_id = %s, last_hash = %s "  # noqa: S608
            "WHERE id = 1",
            [last_id, last_hash],
        )
    metrics.AUDIT_RECORDS.inc(len(rows))
    return rows


def record(
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    before: Any = None,
    after: Any = None,
    *,
    actor: str | None = None,
    on_behalf_of: str | None = None,
) -> AuditRecord:
    """Append one entry; ``action`` is ``app:object:verb`` (e.g. ``cases:case:accept``).

    ``before``/``after`` hold the changed fields (JSON-able values, dates, decimals, UUIDs).
    Personal data must be masked by the caller before it goes in. Raises ``TypeError`` for a
    value that cannot be represented.
    """
    entry = Entry(action, object_type, str(object_id), before, after)
    return record_many([entry], actor=actor, on_behalf_of=on_behalf_of)[0]


def record_read(
    object_type: str, object_id: str | int, *, purpose: str, fields: Iterable[str] = ()
) -> AuditRecord:
    """Audit a read of someone else's personal data (who read whose what, and why)."""
    return record(
        f"{object_type.replace('.', ':')}:read",
        object_type,
        object_id,
        after={"purpose": purpose, "fields": sorted(fields)},
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def _rows(chunk: int) -> Iterator[tuple[Any, ...]]:
    last = 0
    while True:
        batch = list(
            AuditRecord.objects.filter(id__gt=last).order_by("id").values_list(*_COLUMNS)[:chunk]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1][0]


def verify_chain(chunk: int = 20000) -> VerifyResult:
    """Recompute the whole chain; report the first entry where it breaks."""
    expected_id, expected_prev, checked = 1, GENESIS_HASH, 0
    for values in _rows(chunk):
        row = dict(zip(_COLUMNS, values, strict=True))
        entry_id = row["id"]
        if entry_id != expected_id:
            return VerifyResult(
                False, checked, entry_id, f"entries {expected_id}…{entry_id - 1} are missing"
            )
        if row["prev_hash"] != expected_prev:
            return VerifyResult(
                False, checked, entry_id, "previous-hash link broken (entry inserted or reordered)"
            )
        if chain_hash(row["prev_hash"], canonical_bytes(row)) != row["entry_hash"]:
            return VerifyResult(False, checked, entry_id, "content does not match its hash")
        expected_prev, expected_id, checked = row["entry_hash"], entry_id + 1, checked + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_id != checked or head.last_hash != expected_prev):
        return VerifyResult(
            False, checked, head.last_id, "newest entries were removed (head points past the end)"
        )
    return VerifyResult(True, checked)
