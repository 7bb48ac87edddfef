"""A small published catalogue for the search tests (built through ``publish_content``)."""

from __future__ import annotations

from typing import Any

from zwfw.catalog.content import validate_content
from zwfw.catalog.models import Item, LifeEvent
from zwfw.catalog.services import publish_content
from zwfw.catalog.synonyms import seed_synonyms
from zwfw.catalog.tests import factories
from zwfw.organisations.models import Department, Division

PLAIN_MATERIALS = [
    {"name": "申请表", "kinds": ["1"], "forms": ["1"], "source": "1", "paper_copies": 1},
]


def publish(name: str, seq: int, department: Department | None = None, **overrides: Any) -> Item:
    """Publish an item named ``name`` with neutral guide text unless overridden."""
    data = {
        "name": name,
        "implementation_code": f"XK00012000-3-511600-11511600511600040M-{seq:02d}",
        "conditions": "符合法定条件的申请人。",
        "materials": PLAIN_MATERIALS,
        "result_name": "",
        "licence_types": [],
        "faqs": [],
        "legal_themes": [],
        "targets": ["1"],
        "person_themes": [],
        "handling_unit": "",
        **overrides,
    }
    item, _ = publish_content(
        validate_content(factories.content(**data)), department=department or police()
    )
    return item


def police() -> Department:
    return factories.department("广安市公安局")


def county_department() -> Department:
    city = factories.department().division
    county, _ = Division.objects.get_or_create(
        code="511602",
        defaults={"name": "广安区", "level": 3, "parent": city, "full_name": "四川省广安市广安区"},
    )
    found, _ = Department.objects.get_or_create(
        division=county, name="广安市广安区人力资源和社会保障局", defaults={"level": 4}
    )
    return found


def catalogue() -> dict[str, Item]:
    """Ten published items covering the query kinds of the tests; synonyms seeded."""
    seed_synonyms()
    LifeEvent.objects.get_or_create(
        code="move", defaults={"name": "迁居", "audience": LifeEvent.Audience.PERSON}
    )
    county = county_department()
    market = factories.department()
    items = {
        "social_card": publish(
            "社保卡申领", 1, county, person_themes=["085"], keywords=["社会保障卡"]
        ),
        "social_register": publish(
            "社会保险登记",
            2,
            county,
            person_themes=["085"],
            item_type="07",
            basic_code="QR00002000",
            level="4",
        ),
        "medical": publish("医疗保险参保登记", 3, county, person_themes=["085", "145"]),
        "move": publish(
            "户口迁移登记", 4, person_themes=["010"], life_events=["move"], online_steps=[]
        ),
        "id_card": publish("居民身份证申领", 5, person_themes=["090"], online_steps=[]),
        "fund": publish("住房公积金提取", 6, county, person_themes=["075"]),
        "food": publish(
            "食品经营许可（新办）",
            7,
            market,
            targets=["2", "6"],
            legal_themes=["010"],
            conditions="申请人应当具有与经营的食品品种、数量相适应的经营场所。",
        ),
        "licence": publish("机动车驾驶证补领", 8, online_steps=["1", "3"]),
        "marriage": publish("婚姻登记（结婚）", 9, person_themes=["060"]),
        "jobless": publish(
            "失业登记",
            10,
            county,
            conditions="已在本市参加社保并缴费满一年的失业人员，可以办理失业登记。",
            person_themes=["030"],
        ),
    }
    return items


def names(hits: Any) -> list[str]:
    return [hit.name for hit in hits]
