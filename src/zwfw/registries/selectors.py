"""Read queries of the registries app (other apps import these and ``services`` only)."""

from __future__ import annotations

from django.db.models import QuerySet

from zwfw.core.errors import ValidationError
from zwfw.registries.models import Consumer, Grant, PersonRecord
from zwfw.registries.schema import POPULATION, canonical_identifier, get_registry


def registry_fields(registry: str) -> list[tuple[str, str]]:
    """(field name, Chinese label) of a registry, in order. Raises ``registry.unknown``."""
    return [(spec.name, spec.label) for spec in get_registry(registry).fields.values()]


def consumers() -> QuerySet[Consumer]:
    return Consumer.objects.select_related("department").order_by("name")


def grants_of(consumer: Consumer) -> list[Grant]:
    """Every grant of the consumer (also expired ones), by registry and mode."""
    return list(Grant.objects.filter(consumer=consumer).order_by("registry", "mode", "id"))


def person_by_id_number(id_number: str) -> PersonRecord | None:
    """The population record with this ID number (looked up by blind index), or None.

    For staff tools (admin search); services audit reads, this does not — callers showing the
    record's personal data must mask it or audit the read.
    """
    canonical = canonical_identifier(id_number) if isinstance(id_number, str) else None
    if canonical is None or len(canonical) != 18:
        raise ValidationError(
            "registry.key", "请输入18位公民身份号码。", "An 18-character ID number.", field="q"
        )
    index = POPULATION.index_of("id_number", canonical)
    return PersonRecord.objects.filter(id_number_index=index).first()
