"""What each registry holds: its fields, how values are normalised, compared and masked.

A registry is a :class:`RegistrySpec` in :data:`REGISTRIES`: a model, its key field (checked by
a validator), and :class:`FieldSpec` per field. A field is either *indexed* (encrypted, with a
blind index named ``<field>_index``: compared index to index, never decrypted) or *plain*
(compared in its canonical form). Adding a registry (credit …) = a model + a spec +
:func:`register`; grants, services, the API and the audit follow.

Canonical forms (:func:`canonical_*`) are what is stored and what a claim is turned into before
comparison: full-width characters folded (NFKC), spaces removed, ID check letter upper-case,
phone numbers digits only. A claim that has no canonical form (``"abc"`` as a birth date)
cannot match anything; it is not an error.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from zwfw.core import codes, masking
from zwfw.core.errors import ValidationError
from zwfw.core.validators import validate_resident_id, validate_uscc
from zwfw.registries.models import (
    EntityStatus,
    EntityType,
    LegalEntityRecord,
    PersonRecord,
    PersonStatus,
)

Canonical = Callable[[str], str | None]

# --- canonical forms -------------------------------------------------------------------------

_DOTS = re.compile("[\u00b7\u2022\u2027\u2219\u30fb\uff65\u318d\u22c5.]")


def _fold(value: str) -> str:
    """NFKC (full-width → half-width) and no whitespace at all."""
    return "".join(unicodedata.normalize("NFKC", value).split())


def canonical_name(value: str) -> str | None:
    """A person's name: folded; the separator of minority names (买买提·艾力) unified to ``·``."""
    text = _DOTS.sub("\u00b7", _fold(value))
    return text or None


def canonical_text(value: str) -> str | None:
    text = _fold(value)
    return text or None


def canonical_identifier(value: str) -> str | None:
    """ID numbers, card and account numbers: folded, hyphens removed, upper-case."""
    text = _fold(value).replace("-", "").upper()
    return text if text and text.isascii() and text.isalnum() else None


def canonical_phone(value: str) -> str | None:
    """Digits only; a +86 / 0086 / 86 country prefix dropped."""
    text = _fold(value).replace("-", "")
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    return text if text.isascii() and text.isdigit() else None


def canonical_date(value: str) -> str | None:
    """``YYYY-MM-DD`` from ``YYYY-MM-DD``, ``YYYYMMDD`` or ``YYYY/MM/DD``."""
    text = _fold(value).replace("/", "-")
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return dt.date.fromisoformat(text).isoformat() if len(text) == 10 else None
    except ValueError:
        return None


def _canonical_choice(choices: type[models.Choices], aliases: Mapping[str, str]) -> Canonical:
    by_label = {str(label): str(value) for value, label in choices.choices}

    def canonical(value: str) -> str | None:
        text = _fold(value)
        lower = text.lower()
        if lower in choices._value2member_map_:
            return lower
        if text in choices._value2member_map_:
            return text
        return by_label.get(text) or aliases.get(text)

    return canonical


canonical_sex = _canonical_choice(codes.Sex, {"男": "1", "女": "2"})
canonical_ethnicity = _canonical_choice(
    codes.Ethnicity,
    {str(label).removesuffix("族"): str(value) for value, label in codes.Ethnicity.choices},
)
canonical_person_status = _canonical_choice(PersonStatus, {"在世": "living", "已故": "deceased"})
canonical_entity_status = _canonical_choice(
    EntityStatus, {"存续": "active", "在营": "active", "在业": "active", "开业": "active"}
)
canonical_entity_type = _canonical_choice(EntityType, {})


def canonical_division(value: str) -> str | None:
    text = _fold(value)
    return text if text.isascii() and text.isdigit() else None


def _mask_address(value: str) -> str:
    # Keep the administrative part a consumer may know anyway; hide the street and number.
    return value[:6] + "*" * max(len(value) - 6, 0) if len(value) > 6 else "*" * len(value)


def _mask_account(value: str) -> str:
    return masking.mask_bank_card(value) if len(value) > 8 else "*" * len(value)


# --- specs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One field of a registry as consumers see it."""

    name: str
    label: str
    canonical: Canonical
    indexed: bool = False  # encrypted + blind index ``<name>_index``; compared by index
    mask: Callable[[str], str] | None = None  # query results unless the grant is unmasked

    @property
    def index_column(self) -> str:
        return f"{self.name}_index"

    def present(self, stored: Any) -> str:
        """The stored value as text (dates ISO), for query results and plain comparison."""
        if stored is None:
            return ""
        if isinstance(stored, dt.date):
            return stored.isoformat()
        return str(stored)


@dataclass(frozen=True)
class RegistrySpec:
    """A registry: model, key field and its validator, and the fields consumers may use."""

    code: str
    label: str
    model: type[models.Model]
    key_field: str
    validate_key: Callable[[str], str]  # returns the canonical key or raises ValidationError
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)

    @property
    def object_type(self) -> str:
        return f"registries.{self.code}"

    @property
    def key_spec(self) -> FieldSpec:
        return self.fields[self.key_field]

    def field_names(self) -> list[str]:
        return list(self.fields)

    def index_of(self, field_name: str, canonical_value: str) -> str:
        """The blind index a stored canonical value of an indexed field has."""
        index_field = self.model._meta.get_field(self.fields[field_name].index_column)
        return index_field.index_of(canonical_value)  # type: ignore[union-attr]


def _validated_resident_id(value: str) -> str:
    return validate_resident_id(value, "key").number


def _validated_uscc(value: str) -> str:
    return validate_uscc(value, "key").number


POPULATION = RegistrySpec(
    code="population",
    label="人口库",
    model=PersonRecord,
    key_field="id_number",
    validate_key=_validated_resident_id,
    fields={
        spec.name: spec
        for spec in (
            FieldSpec("name", "姓名", canonical_name, indexed=True, mask=masking.mask_name),
            FieldSpec(
                "id_number",
                "公民身份号码",
                canonical_identifier,
                indexed=True,
                mask=masking.mask_id_number,
            ),
            FieldSpec("sex", "性别", canonical_sex),
            FieldSpec("ethnicity", "民族", canonical_ethnicity),
            FieldSpec("birth_date", "出生日期", canonical_date),
            FieldSpec("household_division", "户籍地行政区划", canonical_division),
            FieldSpec("address", "户籍地址", canonical_text, indexed=True, mask=_mask_address),
            FieldSpec("phone", "手机号码", canonical_phone, indexed=True, mask=masking.mask_phone),
            FieldSpec(
                "social_security_card",
                "社会保障卡号",
                canonical_identifier,
                indexed=True,
                mask=_mask_account,
            ),
            FieldSpec(
                "bank_card", "银行卡号", canonical_identifier, indexed=True, mask=_mask_account
            ),
            FieldSpec(
                "housing_fund_account",
                "住房公积金账号",
                canonical_identifier,
                indexed=True,
                mask=_mask_account,
            ),
            FieldSpec(
                "driving_licence_file",
                "驾驶证档案编号",
                canonical_identifier,
                indexed=True,
                mask=_mask_account,
            ),
            FieldSpec("status", "状态", canonical_person_status),
        )
    },
)

LEGAL_ENTITY = RegistrySpec(
    code="legal_entity",
    label="法人库",
    model=LegalEntityRecord,
    key_field="uscc",
    validate_key=_validated_uscc,
    fields={
        spec.name: spec
        for spec in (
            FieldSpec("uscc", "统一社会信用代码", canonical_identifier),
            FieldSpec("name", "名称", canonical_text),
            FieldSpec("entity_type", "类型", canonical_entity_type),
            FieldSpec(
                "legal_rep_name",
                "法定代表人姓名",
                canonical_name,
                indexed=True,
                mask=masking.mask_name,
            ),
            FieldSpec(
                "legal_rep_id_number",
                "法定代表人公民身份号码",
                canonical_identifier,
                indexed=True,
                mask=masking.mask_id_number,
            ),
            FieldSpec("address", "住所", canonical_text),
            FieldSpec("registration_date", "成立日期", canonical_date),
            FieldSpec("business_scope", "经营范围", canonical_text),
            FieldSpec("status", "登记状态", canonical_entity_status),
        )
    },
)

REGISTRIES: dict[str, RegistrySpec] = {}


def register(spec: RegistrySpec) -> RegistrySpec:
    """Make a registry available to grants, services and the API."""
    REGISTRIES[spec.code] = spec
    return spec


register(POPULATION)
register(LEGAL_ENTITY)


def get_registry(code: object) -> RegistrySpec:
    """The spec of a registry code. Raises ``ValidationError("registry.unknown")``."""
    spec = REGISTRIES.get(code) if isinstance(code, str) else None
    if spec is None:
        known = list(REGISTRIES)
        raise ValidationError(
            "registry.unknown",
            f"没有名为“{str(code)[:40]}”的基础库。可用：{'、'.join(known)}。",
            f"No registry {str(code)[:40]!r} (known: {', '.join(known)}).",
            field="registry",
            details={"allowed": known},
        )
    return spec
