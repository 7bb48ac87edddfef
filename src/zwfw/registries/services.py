"""Base registries: 核验 (verify), 比对 (compare), 查询 (query), consumers, grants and loading.

The public surface other apps use. Every access call

1. checks the request's shape (known registry, known fields, string values) → ``ValidationError``;
2. checks that the consumer holds a valid grant for the mode and *every* field involved, the
   key field included → ``PermissionDenied("registry.scope")`` naming the missing fields; the
   denial is audited (a security event) and nothing is looked up;
3. validates the key (GB 11643 ID number, GB 32100 USCC) → ``ValidationError``;
4. looks the record up by the key's blind index (population) or code (legal entities);
5. appends one audit entry (``registries:<registry>:<mode>``) naming the consumer, the fields
   and the outcome — never a claimed or stored value.

核验 and 比对 compare blind indexes (encrypted fields) or canonical forms (plain fields) and
never decrypt. 查询 decrypts only the granted fields it returns, masked unless the grant says
``unmasked``. Call these outside a transaction you might roll back, or the audit entry of a
denial goes with it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import DateField, Field
from django.utils import timezone

from zwfw.core import audit
from zwfw.core.crypto import sm3_hex
from zwfw.core.errors import NotFound, PermissionDenied, ValidationError
from zwfw.core.pii import EncryptedTextField, blind_index
from zwfw.registries.models import Consumer, EntityStatus, Grant, Mode, PersonStatus
from zwfw.registries.schema import LEGAL_ENTITY, POPULATION, RegistrySpec, get_registry

logger = logging.getLogger("zwfw.registries")

MATCH, MISMATCH, ABSENT = "match", "mismatch", "absent"
#: Longest claimed value accepted (the longest field, an address or business scope, is shorter).
MAX_VALUE_LENGTH = 2000
MAX_KEY_LENGTH = 64
#: The platform's own consumer (registration checks); created by migration 0002.
PLATFORM_CONSUMER = "platform"
API_KEY_PREFIX = "zrk_"


# --- request checks --------------------------------------------------------------------------


def _mode(mode: str) -> str:
    if mode not in Mode.values:
        raise ValidationError(
            "registry.mode",
            f"访问方式应为{'、'.join(Mode.values)}之一。",
            f"mode must be one of {', '.join(Mode.values)}.",
            field="mode",
            details={"allowed": list(Mode.values)},
        )
    return mode


def _check_field_names(spec: RegistrySpec, names: Iterable[object], where: str) -> list[str]:
    names = list(names)
    unknown = [
        str(name)[:60] for name in names if not isinstance(name, str) or name not in spec.fields
    ][:10]  # a hostile request may name thousands
    if unknown:
        allowed = spec.field_names()
        raise ValidationError(
            "registry.unknown_field",
            f"{spec.label}没有字段：{'、'.join(unknown)}。可用字段：{'、'.join(allowed)}。",
            f"Unknown fields of {spec.code}: {', '.join(unknown)} (allowed: {', '.join(allowed)}).",
            field=where,
            details={"unknown": unknown, "allowed": allowed},
        )
    return [str(name) for name in dict.fromkeys(names)]


def _check_claims(spec: RegistrySpec, claims: object) -> dict[str, str]:
    if not isinstance(claims, Mapping) or not claims:
        raise ValidationError(
            "registry.claims",
            "请至少提供一个待核验的字段及其值。",
            "claims must be a non-empty object of field → value.",
            field="claims",
        )
    _check_field_names(spec, claims.keys(), "claims")
    bad = [str(name) for name, value in claims.items() if not isinstance(value, str)]
    long = [
        name
        for name, value in claims.items()
        if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH
    ]
    if bad or long:
        reason = "应为文本" if bad else f"超过{MAX_VALUE_LENGTH}个字符"
        raise ValidationError(
            "registry.claim_value",
            f"字段{'、'.join(bad or long)}的值{reason}。",
            f"Claimed values of {', '.join(bad or long)} must be strings of at most "
            f"{MAX_VALUE_LENGTH} characters.",
            field="claims",
            details={"fields": bad or long},
        )
    return {str(name): str(value) for name, value in claims.items()}


def _check_fields(spec: RegistrySpec, fields: object) -> list[str]:
    if not isinstance(fields, list | tuple) or not fields:
        raise ValidationError(
            "registry.fields",
            "请至少列出一个要查询的字段。",
            "fields must be a non-empty list of field names.",
            field="fields",
        )
    return _check_field_names(spec, fields, "fields")


def _check_key_type(key: object) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            "registry.key",
            "请提供有效的查询标识（公民身份号码或统一社会信用代码）。",
            "key must be the record's identifier (ID number or USCC) as a string.",
            field="key",
        )
    return key


def _key_ref(spec: RegistrySpec, key: str) -> str:
    """Pseudonymous reference of the key for the audit log: who asked about whom, no value.

    The first 16 hex digits of the key's blind index (for population: the record's
    ``id_number_index`` prefix). Keys in clear columns (USCC) are pseudonymised the same way:
    a caller may have typed anything, an ID number too, into the key.
    """
    canonical = spec.key_spec.canonical(key) or key
    if spec.key_spec.indexed:
        return spec.index_of(spec.key_field, canonical)[:16]
    return blind_index(canonical, f"{spec.object_type}.key_ref")[:16]


# --- grants ----------------------------------------------------------------------------------


def granted_fields(consumer: Consumer, registry: str, mode: str) -> dict[str, bool]:
    """Fields this consumer may use now in this mode → whether they may be returned unmasked."""
    # Raw SQL on purpose: this runs on every 核验 call, and compiling the ORM query cost more
    # than executing it (see bench/bench_registries.py).
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = Grant._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT fields, unmasked FROM {table} WHERE consumer_id = %s AND registry = %s "  # noqa: S608
            "AND mode = %s AND (valid_until IS NULL OR valid_until > %s)",
            [consumer.pk, registry, mode, now],
        )
        rows = cursor.fetchall()
    scope: dict[str, bool] = {}
    for fields, unmasked in rows:
        for name in (json.loads(fields) if isinstance(fields, str) else fields) or ():
            scope[name] = scope.get(name, False) or bool(unmasked)
    return scope


def _require_scope(
    consumer: Consumer, spec: RegistrySpec, mode: str, fields: Sequence[str], key: str
) -> dict[str, bool]:
    needed = list(dict.fromkeys([spec.key_field, *fields]))
    scope = granted_fields(consumer, spec.code, mode) if consumer.is_active else {}
    missing = [name for name in needed if name not in scope]
    if missing:
        audit.record(
            f"registries:{spec.code}:{mode}_denied",
            spec.object_type,
            "",
            after={
                "consumer": consumer.name,
                "consumer_id": consumer.pk,
                "mode": mode,
                "fields": sorted(needed),
                "missing": sorted(missing),
                "consumer_active": consumer.is_active,
                "key_ref": _key_ref(spec, key),
            },
        )
        logger.warning(
            "registry scope denied: consumer=%s registry=%s mode=%s missing=%s",
            consumer.pk,
            spec.code,
            mode,
            ",".join(missing),
        )
        if not consumer.is_active:
            raise PermissionDenied(
                "registry.consumer_inactive",
                "该使用方已停用，不能访问基础库。",
                "This consumer is disabled.",
            )
        labels = [spec.fields[name].label for name in missing]
        raise PermissionDenied(
            "registry.scope",
            f"未获授权以“{Mode(mode).label}”方式使用{spec.label}的字段：{'、'.join(labels)}。",
            f"No {mode} grant on {spec.code} for: {', '.join(missing)}.",
            details={"registry": spec.code, "mode": mode, "missing": missing},
        )
    return scope


# --- lookups ---------------------------------------------------------------------------------


def _lookup(spec: RegistrySpec, key: str, columns: Iterable[str]) -> dict[str, Any] | None:
    """The record's ``columns`` (decrypted where encrypted), or None. One raw query."""
    meta = spec.model._meta
    fields = [cast(Field, meta.get_field(name)) for name in dict.fromkeys(columns)]
    key_column = spec.key_spec.index_column if spec.key_spec.indexed else spec.key_field
    key_value = spec.index_of(spec.key_field, key) if spec.key_spec.indexed else key
    quote = connection.ops.quote_name
    selected = ", ".join(["id", *(quote(f.column) for f in fields)])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {selected} FROM {meta.db_table} WHERE {quote(key_column)} = %s",  # noqa: S608
            [key_value],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    result: dict[str, Any] = {"pk": row[0]}
    for field, raw in zip(fields, row[1:], strict=True):
        value = raw
        if isinstance(field, EncryptedTextField):
            value = field.from_db_value(raw, None, connection)
        elif isinstance(field, DateField) and isinstance(raw, str):
            value = dt.date.fromisoformat(raw)
        result[field.name] = value
    return result


def _compare_columns(spec: RegistrySpec, names: Iterable[str]) -> list[str]:
    return [spec.fields[n].index_column if spec.fields[n].indexed else n for n in names]


def _outcome(spec: RegistrySpec, row: Mapping[str, Any] | None, name: str, claimed: str) -> str:
    if row is None:
        return ABSENT
    field_spec = spec.fields[name]
    if field_spec.indexed:
        stored_index = row[field_spec.index_column]
        if not stored_index:
            return ABSENT
        canonical = field_spec.canonical(claimed)
        if canonical is None:
            return MISMATCH
        return (
            MATCH
            if secrets.compare_digest(spec.index_of(name, canonical), stored_index)
            else MISMATCH
        )
    stored = field_spec.present(row[name])
    if not stored:
        return ABSENT
    canonical = field_spec.canonical(claimed)
    return (
        MATCH if canonical is not None and canonical == field_spec.canonical(stored) else MISMATCH
    )


def _audit_call(
    spec: RegistrySpec,
    *,
    consumer: Consumer,
    mode: str,
    fields: Iterable[str],
    key: str,
    row: Mapping[str, Any] | None,
    **outcome: Any,
) -> None:
    audit.record(
        f"registries:{spec.code}:{mode}",
        spec.object_type,
        row["pk"] if row is not None else "",
        after={
            "consumer": consumer.name,
            "consumer_id": consumer.pk,
            "mode": mode,
            "fields": sorted(set(fields) | {spec.key_field}),
            "found": row is not None,
            "key_ref": _key_ref(spec, key),
            **outcome,
        },
    )


def _prepare(
    consumer: Consumer, spec: RegistrySpec, mode: str, key: object, names: Sequence[str]
) -> tuple[str, dict[str, bool]]:
    """Key shape, then the grant (so an unauthorised consumer learns nothing), then the key."""
    key_text = _check_key_type(key)
    scope = _require_scope(consumer, spec, mode, names, key_text)
    return spec.validate_key(key_text), scope


# --- the three access modes ------------------------------------------------------------------


def verify(consumer: Consumer, registry: str, key: str, claims: Mapping[str, str]) -> bool:
    """核验: True only if the record exists and every claimed value matches; never says which.

    Raises ``ValidationError`` (``registry.unknown``, ``.unknown_field``, ``.claims``,
    ``.claim_value``, ``.key``, or the key validator's ``id_number.*`` / ``uscc.*``) and
    ``PermissionDenied`` (``registry.scope`` naming the missing fields, ``.consumer_inactive``).
    """
    spec = get_registry(registry)
    claimed = _check_claims(spec, claims)
    canonical_key, _ = _prepare(consumer, spec, Mode.VERIFY, key, list(claimed))
    row = _lookup(spec, canonical_key, _compare_columns(spec, claimed))
    result = row is not None and all(
        _outcome(spec, row, name, value) == MATCH for name, value in claimed.items()
    )
    _audit_call(
        spec,
        consumer=consumer,
        mode=Mode.VERIFY,
        fields=claimed,
        key=canonical_key,
        row=row,
        result=result,
    )
    return result


def compare(
    consumer: Consumer, registry: str, key: str, claims: Mapping[str, str]
) -> dict[str, str]:
    """比对: per claimed field ``"match"``, ``"mismatch"`` or ``"absent"`` (no record, or no value).

    Raises as :func:`verify`.
    """
    spec = get_registry(registry)
    claimed = _check_claims(spec, claims)
    canonical_key, _ = _prepare(consumer, spec, Mode.COMPARE, key, list(claimed))
    row = _lookup(spec, canonical_key, _compare_columns(spec, claimed))
    result = {name: _outcome(spec, row, name, value) for name, value in claimed.items()}
    _audit_call(
        spec,
        consumer=consumer,
        mode=Mode.COMPARE,
        fields=claimed,
        key=canonical_key,
        row=row,
        result=result,
    )
    return result


def query(consumer: Consumer, registry: str, key: str, fields: Sequence[str]) -> dict[str, str]:
    """查询: the granted fields of the record, masked unless the grant says ``unmasked``.

    Values are text (dates ISO 8601, codes as stored; ``""`` when the record has none).
    Raises as :func:`verify` (``registry.fields`` for an empty list) and
    ``NotFound("registry.not_found")`` when no record has this key (the call is audited).
    """
    spec = get_registry(registry)
    names = _check_fields(spec, fields)
    canonical_key, scope = _prepare(consumer, spec, Mode.QUERY, key, names)
    row = _lookup(spec, canonical_key, names)
    unmasked = sorted(name for name in names if scope.get(name))
    _audit_call(
        spec,
        consumer=consumer,
        mode=Mode.QUERY,
        fields=names,
        key=canonical_key,
        row=row,
        unmasked=unmasked,
    )
    if row is None:
        raise NotFound(
            "registry.not_found",
            f"{spec.label}中没有该{spec.key_spec.label}的记录。",
            f"No {spec.code} record has this key.",
            field="key",
        )
    result = {}
    for name in names:
        field_spec = spec.fields[name]
        value = field_spec.present(row[name])
        if value and field_spec.mask is not None and not scope[name]:
            value = field_spec.mask(value)
        result[name] = value
    return result


# --- the platform's own checks (registration) ------------------------------------------------

#: Factors a person may give besides ID number and name when registering (SPEC §6).
REGISTRATION_FACTORS = (
    "phone",
    "social_security_card",
    "bank_card",
    "housing_fund_account",
    "driving_licence_file",
)


@dataclass(frozen=True)
class FactorResult:
    """What the population registry says about a registering person's factors.

    ``found``: a record has this ID number; ``living``: it is not marked deceased;
    ``name_matches``; ``matched`` / ``mismatched`` / ``absent``: the extra factors by outcome
    (absent: the registry holds no value for it, so it can neither confirm nor refute it).
    """

    found: bool
    living: bool
    name_matches: bool
    matched: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()

    def confirmed(self, minimum: int = 2) -> bool:
        """Identity confirmed with at least ``minimum`` matching factors and none contradicted."""
        return (
            self.found
            and self.living
            and self.name_matches
            and not self.mismatched
            and len(self.matched) >= minimum
        )


def platform_consumer() -> Consumer:
    """The built-in consumer ``platform`` (created by migration; recreated if missing)."""
    consumer = Consumer.objects.filter(name=PLATFORM_CONSUMER).first()
    return consumer if consumer is not None else ensure_platform_consumer()


def verify_person_factors(id_number: str, name: str, factors: Mapping[str, str]) -> FactorResult:
    """Compare a registering person's ID number, name and factors with the population registry.

    ``factors`` maps names of :data:`REGISTRATION_FACTORS` to the values given. Runs as the
    ``platform`` consumer (比对 mode, audited). Raises ``ValidationError`` for a malformed ID
    number (``id_number.*``) or an unknown factor (``registry.unknown_field``).
    """
    unknown = [name for name in factors if name not in REGISTRATION_FACTORS]
    if unknown:
        raise ValidationError(
            "registry.unknown_field",
            f"不支持的核验要素：{'、'.join(str(u)[:40] for u in unknown)}。",
            f"Unknown factors: {', '.join(str(u)[:40] for u in unknown)}.",
            field="factors",
            details={"unknown": unknown, "allowed": list(REGISTRATION_FACTORS)},
        )
    claims = {"name": name, "status": PersonStatus.LIVING, **factors}
    outcome = compare(platform_consumer(), POPULATION.code, id_number, claims)
    by_result = {
        kind: tuple(f for f in factors if outcome[f] == kind) for kind in (MATCH, MISMATCH, ABSENT)
    }
    return FactorResult(
        found=outcome["name"] != ABSENT,
        living=outcome["status"] == MATCH,
        name_matches=outcome["name"] == MATCH,
        matched=by_result[MATCH],
        mismatched=by_result[MISMATCH],
        absent=by_result[ABSENT],
    )


@dataclass(frozen=True)
class EntityCheck:
    """The legal-entity registry's answer for a legal person's registration."""

    found: bool
    active: bool
    legal_rep_matches: bool

    @property
    def confirmed(self) -> bool:
        return self.found and self.active and self.legal_rep_matches


def verify_legal_representative(
    uscc: str, legal_rep_name: str, legal_rep_id_number: str
) -> EntityCheck:
    """Compare a company's USCC and its legal representative's identity with the registry.

    Runs as the ``platform`` consumer (比对, audited). Raises ``ValidationError`` for a
    malformed USCC (``uscc.*``).
    """
    claims = {
        "legal_rep_name": legal_rep_name,
        "legal_rep_id_number": legal_rep_id_number,
        "status": EntityStatus.ACTIVE,
    }
    outcome = compare(platform_consumer(), LEGAL_ENTITY.code, uscc, claims)
    return EntityCheck(
        found=outcome["status"] != ABSENT,
        active=outcome["status"] == MATCH,
        legal_rep_matches=outcome["legal_rep_name"] == MATCH
        and outcome["legal_rep_id_number"] == MATCH,
    )


# --- consumers and grants (writes) -----------------------------------------------------------


def hash_api_key(key: str) -> str:
    """SM3 of an API key. Keys are 256-bit random, so a fast hash suffices (no guessing)."""
    return sm3_hex(key.encode())


def _consumer_snapshot(consumer: Consumer) -> dict[str, Any]:
    return {
        "name": consumer.name,
        "kind": consumer.kind,
        "department_id": consumer.department_id,
        "client_id": consumer.client_id,
        "is_active": consumer.is_active,
        "has_api_key": bool(consumer.api_key_hash),
    }


def _check_consumer(name: str, client_id: str | None, exclude: int | None = None) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise ValidationError(
            "registry.consumer_name",
            "使用方名称不能为空，且不超过100个字符。",
            "A consumer name is 1–100 characters.",
            field="name",
        )
    others = Consumer.objects.exclude(pk=exclude) if exclude else Consumer.objects.all()
    if others.filter(name=name.strip()).exists():
        raise ValidationError(
            "registry.consumer_exists",
            f"已有名为“{name.strip()}”的使用方。",
            f"A consumer named {name.strip()!r} exists.",
            field="name",
        )
    if client_id and others.filter(client_id=client_id).exists():
        raise ValidationError(
            "registry.client_id_taken",
            f"OIDC客户端标识“{client_id}”已被其他使用方使用。",
            f"Client id {client_id!r} belongs to another consumer.",
            field="client_id",
        )


@transaction.atomic
def create_consumer(
    *,
    name: str,
    kind: str = Consumer.Kind.CLIENT,
    department_id: int | None = None,
    client_id: str | None = None,
    with_api_key: bool = False,
    api_key: str | None = None,
) -> tuple[Consumer, str | None]:
    """Register a consumer; returns it and, with ``with_api_key``, its API key (shown once).

    ``api_key`` provisions a key generated elsewhere (a secret store; the demo's documented key)
    instead; it must start with ``zrk_`` and have at least 32 characters.

    Raises ``ValidationError`` (``registry.consumer_name``, ``.consumer_exists``,
    ``.client_id_taken``).
    """
    client_id = client_id.strip() if client_id else None
    _check_consumer(name, client_id)
    if api_key is not None and (not api_key.startswith(API_KEY_PREFIX) or len(api_key) < 32):
        raise ValidationError(
            "registry.api_key",
            f"API密钥应以{API_KEY_PREFIX}开头，且不少于32个字符。",
            f"An API key starts with {API_KEY_PREFIX} and has at least 32 characters.",
            field="api_key",
        )
    key = api_key or (_new_api_key() if with_api_key else None)
    consumer = Consumer.objects.create(
        name=name.strip(),
        kind=kind,
        department_id=department_id,
        client_id=client_id,
        api_key_hash=hash_api_key(key) if key else None,
    )
    audit.record(
        "registries:consumer:create",
        "registries.consumer",
        consumer.pk,
        after=_consumer_snapshot(consumer),
    )
    return consumer, key


@transaction.atomic
def update_consumer(consumer: Consumer, **changes: Any) -> Consumer:
    """Change a consumer's name, kind, department, client id or active flag (audited).

    Raises ``ValidationError`` as :func:`create_consumer`.
    """
    allowed = {"name", "kind", "department_id", "client_id", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    if "client_id" in changes:
        changes["client_id"] = (changes["client_id"] or "").strip() or None
    before = _consumer_snapshot(Consumer.objects.select_for_update().get(pk=consumer.pk))
    _check_consumer(
        changes.get("name", consumer.name), changes.get("client_id"), exclude=consumer.pk
    )
    for attr, value in changes.items():
        setattr(consumer, attr, value.strip() if attr == "name" else value)
    consumer.save()
    after = _consumer_snapshot(consumer)
    if after != before:
        audit.record(
            "registries:consumer:update",
            "registries.consumer",
            consumer.pk,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return consumer


def _new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def issue_api_key(consumer: Consumer) -> str:
    """A new API key for the consumer (the previous one stops working); returned once."""
    key = _new_api_key()
    consumer.api_key_hash = hash_api_key(key)
    consumer.save(update_fields=["api_key_hash", "updated_at"])
    audit.record("registries:consumer:issue_api_key", "registries.consumer", consumer.pk)
    return key


def consumer_for_api_key(key: str) -> Consumer | None:
    """The active consumer holding this API key, or None."""
    if not key.startswith(API_KEY_PREFIX) or len(key) > 100:
        return None
    return Consumer.objects.filter(api_key_hash=hash_api_key(key), is_active=True).first()


def consumer_for_client_id(client_id: str) -> Consumer | None:
    """The active consumer registered for this OIDC client id, or None."""
    return Consumer.objects.filter(client_id=client_id, is_active=True).first()


def check_grant(registry: str, mode: str, fields: object, unmasked: bool) -> tuple[str, list[str]]:
    """Validate a grant's content; returns (registry code, field names).

    Raises ``ValidationError`` as :func:`grant_scope`.
    """
    spec = get_registry(registry)
    _mode(mode)
    names = _check_fields(spec, fields)
    if unmasked and mode != Mode.QUERY:
        raise ValidationError(
            "registry.unmasked_mode",
            "只有“查询”授权可以返回明文；核验和比对不返回任何数据。",
            "Only query grants can be unmasked; verify and compare return no values.",
            field="unmasked",
        )
    if spec.key_field not in names:
        raise ValidationError(
            "registry.key_not_granted",
            f"授权字段须包含查询标识“{spec.key_spec.label}”（{spec.key_field}）。",
            f"The grant must include the key field {spec.key_field}.",
            field="fields",
            details={"key_field": spec.key_field},
        )
    return spec.code, names


def _grant_snapshot(grant: Grant) -> dict[str, Any]:
    return {
        "consumer_id": grant.consumer_id,
        "registry": grant.registry,
        "mode": grant.mode,
        "fields": list(grant.fields),
        "unmasked": grant.unmasked,
        "valid_until": grant.valid_until,
    }


@transaction.atomic
def grant_scope(
    *,
    consumer: Consumer,
    registry: str,
    mode: str,
    fields: Sequence[str],
    unmasked: bool = False,
    valid_until: dt.datetime | None = None,
    created_by: Any = None,
) -> Grant:
    """Grant a consumer a mode on fields of a registry (the key field must be among them).

    Raises ``ValidationError`` (``registry.unknown``, ``.mode``, ``.fields``,
    ``.unknown_field``, ``.key_not_granted``, ``.unmasked_mode``).
    """
    code, names = check_grant(registry, mode, fields, unmasked)
    grant = Grant.objects.create(
        consumer=consumer,
        registry=code,
        mode=mode,
        fields=names,
        unmasked=unmasked,
        valid_until=valid_until,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    audit.record(
        "registries:grant:create", "registries.grant", grant.pk, after=_grant_snapshot(grant)
    )
    return grant


@transaction.atomic
def update_grant(grant: Grant, **changes: Any) -> Grant:
    """Change a grant's fields, mode, unmasked flag or validity (audited).

    Raises ``ValidationError`` as :func:`grant_scope`.
    """
    allowed = {"registry", "mode", "fields", "unmasked", "valid_until"}
    if set(changes) - allowed:
        raise ValueError(f"cannot change {', '.join(sorted(set(changes) - allowed))}")
    before = _grant_snapshot(Grant.objects.select_for_update().get(pk=grant.pk))
    merged = {**before, **changes}
    code, names = check_grant(
        merged["registry"], merged["mode"], merged["fields"], merged["unmasked"]
    )
    grant.registry, grant.mode, grant.fields = code, merged["mode"], names
    grant.unmasked, grant.valid_until = merged["unmasked"], merged["valid_until"]
    grant.save()
    after = _grant_snapshot(grant)
    if after != before:
        audit.record(
            "registries:grant:update",
            "registries.grant",
            grant.pk,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return grant


@transaction.atomic
def revoke_grant(grant: Grant) -> None:
    """Withdraw a grant (the row is deleted; the audit log keeps what it allowed)."""
    snapshot = _grant_snapshot(grant)
    pk = grant.pk
    grant.delete()
    audit.record("registries:grant:revoke", "registries.grant", pk, before=snapshot)


@transaction.atomic
def ensure_platform_consumer() -> Consumer:
    """Create the ``platform`` consumer with 核验/比对 on every field of both registries."""
    consumer, created = Consumer.objects.get_or_create(
        name=PLATFORM_CONSUMER, defaults={"kind": Consumer.Kind.INTERNAL}
    )
    if created:
        audit.record(
            "registries:consumer:create",
            "registries.consumer",
            consumer.pk,
            after=_consumer_snapshot(consumer),
        )
        for spec in (POPULATION, LEGAL_ENTITY):
            for mode in (Mode.VERIFY, Mode.COMPARE):
                grant_scope(
                    consumer=consumer, registry=spec.code, mode=mode, fields=spec.field_names()
                )
    return consumer


# --- records (writes) ------------------------------------------------------------------------


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _stored_columns(spec: RegistrySpec) -> list[str]:
    columns = []
    for name, field_spec in spec.fields.items():
        columns.append(name)
        if field_spec.indexed:
            columns.append(field_spec.index_column)
    return columns


def _comparable(spec: RegistrySpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """What decides whether a record changed: indexes of encrypted fields, plain values."""
    result = {}
    for name, field_spec in spec.fields.items():
        value = values.get(name)
        if field_spec.indexed:
            result[name] = spec.index_of(name, value) if value else ""
        else:
            result[name] = field_spec.present(value)
    return result


def upsert_records(
    spec: RegistrySpec,
    records: Sequence[Mapping[str, Any]],
    *,
    counts: UpsertCounts | None = None,
    dry_run: bool = False,
) -> UpsertCounts:
    """Create or update records (canonical values, keyed by the key field) in one statement.

    Unchanged records are not rewritten. The caller runs this inside its transaction and audits
    the load (see :func:`load_records`); ``records`` must have distinct keys.
    """
    counts = counts if counts is not None else UpsertCounts()
    if not records:
        return counts
    key_spec = spec.key_spec
    key_column = key_spec.index_column if key_spec.indexed else spec.key_field
    wanted = {
        (
            spec.index_of(spec.key_field, r[spec.key_field])
            if key_spec.indexed
            else r[spec.key_field]
        ): r
        for r in records
    }
    comparable_columns = _compare_columns(spec, spec.fields)
    existing = {
        row[key_column]: row
        for row in spec.model._default_manager.filter(**{f"{key_column}__in": list(wanted)}).values(
            *comparable_columns
        )
    }
    changed = []
    for key_value, record in wanted.items():
        current = existing.get(key_value)
        if current is not None:
            stored = {
                name: current[spec.fields[name].index_column]
                if spec.fields[name].indexed
                else spec.fields[name].present(current[name])
                for name in spec.fields
            }
            if stored == _comparable(spec, record):
                counts.unchanged += 1
                continue
            counts.updated += 1
        else:
            counts.created += 1
        changed.append(spec.model(**{name: record.get(name, "") for name in spec.fields}))
    if changed and not dry_run:
        update = [c for c in _stored_columns(spec) if c not in (key_column, spec.key_field)]
        spec.model._default_manager.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=[key_column],
            update_fields=[*update, "updated_at"],
        )
    return counts


def record_load(spec: RegistrySpec, counts: UpsertCounts, *, source: str, rejected: int) -> None:
    """Audit one completed load (counts and source only). Nothing changed → nothing recorded."""
    if counts.created or counts.updated:
        audit.record(
            f"registries:{spec.code}:load",
            spec.object_type,
            "",
            after={
                "source": source[:200],
                "created": counts.created,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "rejected": rejected,
            },
        )
