"""Fixtures: the journey persons and company loaded, consumers with chosen grants."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from zwfw.registries import loading, services
from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE
from zwfw.registries.models import Consumer


@pytest.fixture
def registry_data(db: None) -> None:
    """The four journey persons and 示例餐饮管理有限公司 in the registries."""
    people = [person.row() for person in JOURNEY_PEOPLE.values()]
    report = loading.load_rows("population", enumerate(people, start=2), strict=True)
    assert report.created == len(people), report.errors
    report = loading.load_rows("legal_entity", [(2, JOURNEY_COMPANY.row())], strict=True)
    assert report.created == 1, report.errors


GrantSpec = tuple[str, str, list[str]] | tuple[str, str, list[str], bool]


@pytest.fixture
def make_consumer(db: None) -> Callable[..., Consumer]:
    """make_consumer(("population", "verify", ["name", "id_number"]), …, name=…)."""
    counter = iter(range(1, 1000))

    def make(*grants: GrantSpec, name: str | None = None, **kwargs: object) -> Consumer:
        consumer, _ = services.create_consumer(
            name=name or f"测试系统{next(counter)}",
            **kwargs,  # type: ignore[arg-type]
        )
        for grant in grants:
            registry, mode, fields = grant[0], grant[1], grant[2]
            unmasked = bool(grant[3]) if len(grant) > 3 else False  # type: ignore[misc]
            services.grant_scope(
                consumer=consumer, registry=registry, mode=mode, fields=fields, unmasked=unmasked
            )
        return consumer

    return make
