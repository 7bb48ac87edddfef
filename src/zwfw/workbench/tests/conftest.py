"""Fixtures of the workbench tests: the case world of ``zwfw.cases`` (departments, staff of each
role, applicants, items) and helpers to bring a case to a given step."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zwfw.cases import services
from zwfw.cases.models import Case, CaseTask
from zwfw.cases.tests.conftest import ITEM_PROMISED, PDF, world  # noqa: F401 (fixture)

__all__ = ["ITEM_PROMISED", "PDF", "client_for", "open_task", "submitted"]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submitted(world: dict[str, Any]) -> Case:  # noqa: F811
    """李娜's application for the promised item, every required material uploaded."""
    user = world["person"]
    case = services.create_draft(user, ITEM_PROMISED)
    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if entry.get("required", True):
            services.add_material_upload(
                user, case, checklist_index=index, name=f"m{index}.pdf", data=PDF + bytes([index])
            )
    return services.submit(user, case).case


def open_task(case: Case, kind: str | None = None) -> CaseTask:
    tasks = case.tasks.filter(status=CaseTask.Status.OPEN)
    if kind:
        tasks = tasks.filter(kind=kind)
    task = tasks.order_by("id").first()
    assert task is not None
    return task


@pytest.fixture
def case(world: dict[str, Any]) -> Case:  # noqa: F811
    return submitted(world)


@pytest.fixture
def count_queries(django_assert_max_num_queries: Any) -> Any:
    """``django_assert_max_num_queries`` that also counts through the test client: Django
    clears the query log when a request starts, which would make the count start mid-way."""
    from django.core.signals import request_started
    from django.db import reset_queries

    request_started.disconnect(reset_queries)
    try:
        yield django_assert_max_num_queries
    finally:
        request_started.connect(reset_queries)
