"""Fixtures for case tests: departments and staff of 广安市, applicants, published items."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from zwfw.catalog.content import validate_content
from zwfw.catalog.services import publish_content
from zwfw.catalog.tests import factories as catalog_factories
from zwfw.core.calendar import seed_calendar
from zwfw.identity.models import Company, User
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Department, Role

MARKET = "广安市市场监督管理局"
PLANNING = "广安市自然资源和规划局"
HOUSING = "广安市住房和城乡建设局"
ECOLOGY = "广安市生态环境局"

ITEM_PROMISED = "XK00012000-3-511600-11511600511600040M-01"
ITEM_PARALLEL = "XK00012001-3-511600-11511600511600040M-01"
ITEM_IMMEDIATE = "GG00012002-3-511600-11511600511600040M-01"


def staff(username: str, role: str, department: Department, name: str = "工作人员") -> User:
    user = User.objects.create_user(username, password="x" * 12, kind="staff", real_name=name)
    organisations.grant_role(user=user, department=department, role=role)
    return user


def publish(department: Department, **overrides: Any) -> Any:
    content = validate_content(catalog_factories.content(**overrides))
    with transaction.atomic():
        item, _version = publish_content(content, department=department, actor="test")
    item.refresh_from_db()
    return item


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """Departments, staff of each role, a person, a company with an agent, three items."""
    seed_calendar()
    market = catalog_factories.department(MARKET)
    planning = catalog_factories.department(PLANNING)
    housing = catalog_factories.department(HOUSING)
    ecology = catalog_factories.department(ECOLOGY)
    people = {
        "person": User.objects.create_user(
            "lina",
            password="x" * 12,
            kind="person",
            real_name="李娜",
            id_type="111",
            id_number="511602199201200023",
            phone="13800138000",
            trust_level="L3",
        ),
        "rep": User.objects.create_user(
            "zhangwei",
            password="x" * 12,
            kind="person",
            real_name="张伟",
            id_type="111",
            id_number="511602197903080012",
            phone="13800138002",
            trust_level="L3",
        ),
        "agent": User.objects.create_user(
            "wangqiang",
            password="x" * 12,
            kind="person",
            real_name="王强",
            id_type="111",
            id_number="511602198806150036",
            phone="13800138001",
            trust_level="L3",
        ),
        "stranger": User.objects.create_user(
            "stranger", password="x" * 12, kind="person", real_name="路人", trust_level="L3"
        ),
    }
    from django.utils import timezone

    company = Company.objects.create(
        uscc="91511602MA6CXY2P91",
        name="示例餐饮管理有限公司",
        legal_representative=people["rep"],
        trust_level="L3",
        verified_via="registry",
        verified_at=timezone.now(),
        created_by=people["rep"],
    )
    from zwfw.identity.services import authorise_agent

    staff_users = {
        "clerk": staff("clerk", Role.CLERK, market, "张敏"),
        "reviewer": staff("reviewer", Role.REVIEWER, market, "刘洋"),
        "decider": staff("decider", Role.DECIDER, market, "陈局"),
        "planning_reviewer": staff("planning", Role.REVIEWER, planning, "规划审查员"),
        "housing_reviewer": staff("housing", Role.REVIEWER, housing, "住建审查员"),
        "ecology_reviewer": staff("ecology", Role.REVIEWER, ecology, "环保审查员"),
        "supervisor": staff("supervisor", Role.SUPERVISOR, market, "赵刚"),
    }
    promised = publish(
        market,
        review_points=["申请人主体资格", "经营场所符合要求", "从业人员健康证明齐全"],
        targets=["1", "2", "6"],
    )
    parallel = publish(
        market,
        name="建设工程规划许可",
        basic_code="XK00012001",
        implementation_code=ITEM_PARALLEL,
        joint_departments=[PLANNING, HOUSING, ECOLOGY],
        targets=["1", "2", "6"],
    )
    immediate = publish(
        market,
        name="个体工商户名称查询",
        basic_code="GG00012002",
        implementation_code=ITEM_IMMEDIATE,
        item_type="20",
        case_type="1",
        result_type="3",
        licence_types=[],
        targets=["1", "2", "6"],
        legal_time_limit={"value": 0, "unit": "1"},
        promised_time_limit={"value": 0, "unit": "1"},
        materials=[],
    )
    today = timezone.localdate()
    authorise_agent(
        people["rep"],
        company,
        agent_id_number="511602198806150036",
        agent_name="王强",
        all_items=False,
        item_codes=["XK00012000"],
        valid_from=today,
        valid_until=today.replace(year=today.year + 1),
    )
    return {
        "market": market,
        "planning": planning,
        "housing": housing,
        "ecology": ecology,
        "company": company,
        "promised": promised,
        "parallel": parallel,
        "immediate": immediate,
        **people,
        **staff_users,
    }


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
