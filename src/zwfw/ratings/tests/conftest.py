"""Fixtures for 好差评 tests: the cases world plus a department admin, a clerk elsewhere and a
case of each shape a rating needs (closed, open, overdue)."""

from __future__ import annotations

from typing import Any

import pytest

from zwfw.cases import services as cases
from zwfw.cases.models import Case, CaseTask, TaskKind
from zwfw.cases.tests.conftest import ITEM_IMMEDIATE, ITEM_PROMISED, PDF, staff, world
from zwfw.organisations.models import Role

__all__ = ["world"]


def submitted(world: dict[str, Any], item: str = ITEM_PROMISED, user: Any = None) -> Case:
    user = user or world["person"]
    case = cases.create_draft(user, item)
    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if entry.get("required", True):
            cases.add_material_upload(
                user, case, checklist_index=index, name=f"m{index}.pdf", data=PDF + bytes([index])
            )
    return cases.submit(user, case).case


def closed_case(world: dict[str, Any], user: Any = None) -> Case:
    """A 即办件 handled on the spot (closed, market department)."""
    case = submitted(world, ITEM_IMMEDIATE, user)
    task = case.tasks.get(status=CaseTask.Status.OPEN, kind=TaskKind.HANDLE)
    return cases.act(world["clerk"], task, "approve", opinion="当场办结")


@pytest.fixture
def people(world: dict[str, Any]) -> dict[str, Any]:
    """The world plus a 部门管理员 of market and a clerk of the planning department."""
    world["admin"] = staff("market_admin", Role.DEPARTMENT_ADMIN, world["market"], "孙主任")
    world["other_clerk"] = staff("planning_clerk", Role.CLERK, world["planning"], "规划窗口")
    return world


@pytest.fixture
def case(people: dict[str, Any]) -> Case:
    return closed_case(people)
