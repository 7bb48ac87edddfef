"""The inbox: counts, filters, claim / release, pagination, and its query count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from zwfw.cases import services
from zwfw.cases.models import Case, CaseTask, TaskKind
from zwfw.core.models import AuditRecord
from zwfw.workbench.tests.conftest import client_for, open_task, submitted

pytestmark = pytest.mark.django_db


def test_clerk_sees_the_new_case_in_the_queue_with_counts(
    world: dict[str, Any], case: Case
) -> None:
    response = client_for(world["clerk"]).get("/workbench/")
    assert response.status_code == 200
    page = response.content.decode()
    assert case.number in page
    assert "待签收" in page
    counts = response.context["counts"]
    assert (counts["mine"], counts["queue"], counts["overdue"]) == (0, 1, 0)
    assert counts["by_kind"] == {"accept": 1}
    # The reviewer of the same department has nothing yet (the task is the clerk's role).
    response = client_for(world["reviewer"]).get("/workbench/")
    assert response.context["rows"] == []


def test_claim_and_release_through_the_page(world: dict[str, Any], case: Case) -> None:
    task = open_task(case, TaskKind.ACCEPT)
    clerk = client_for(world["clerk"])
    response = clerk.post(f"/workbench/tasks/{task.pk}/claim/", {"next": "/workbench/?scope=mine"})
    assert response.status_code == 302
    assert response["Location"] == "/workbench/?scope=mine"
    task.refresh_from_db()
    assert task.assignee == world["clerk"]
    assert (
        AuditRecord.objects.filter(action="cases:task:claim", object_id=str(task.pk)).count() == 1
    )
    mine = clerk.get("/workbench/?scope=mine")
    assert [t.pk for t in mine.context["rows"]] == [task.pk]
    assert mine.context["counts"]["mine"] == 1
    assert clerk.get("/workbench/?scope=queue").context["rows"] == []

    clerk.post(f"/workbench/tasks/{task.pk}/release/")
    task.refresh_from_db()
    assert task.assignee is None


def test_staff_of_another_department_cannot_claim_and_nothing_changes(
    world: dict[str, Any], case: Case
) -> None:
    task = open_task(case, TaskKind.ACCEPT)
    response = client_for(world["ecology_reviewer"]).post(f"/workbench/tasks/{task.pk}/claim/")
    assert response.status_code == 404
    # The market reviewer sees the case but holds no clerk role: refused by the service.
    response = client_for(world["reviewer"]).post(f"/workbench/tasks/{task.pk}/claim/")
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee is None
    assert not AuditRecord.objects.filter(action="cases:task:claim").exists()


def test_filters_role_department_item_and_due(world: dict[str, Any]) -> None:
    first = submitted(world)
    second = submitted(world)
    services.accept(world["clerk"], second)  # now a review task of the market department
    # A clerk who also reviews sees both; the role filter splits them.
    from zwfw.organisations import services as organisations
    from zwfw.organisations.models import Role

    organisations.grant_role(user=world["clerk"], department=world["market"], role=Role.REVIEWER)
    clerk = client_for(world["clerk"])
    every = clerk.get("/workbench/").context["rows"]
    assert {t.case_id for t in every} == {first.pk, second.pk}
    reviews = clerk.get("/workbench/?role=reviewer").context["rows"]
    assert [t.case_id for t in reviews] == [second.pk]
    assert [t.case_id for t in clerk.get("/workbench/?kind=accept").context["rows"]] == [first.pk]
    department = world["market"].pk
    assert len(clerk.get(f"/workbench/?department={department}").context["rows"]) == 2
    assert clerk.get(f"/workbench/?department={world['ecology'].pk}").context["rows"] == []
    assert clerk.get("/workbench/?item=NOPE").context["rows"] == []

    today = timezone.localdate()
    Case.objects.filter(pk=second.pk).update(due_date=today - dt.timedelta(days=1))
    overdue = clerk.get("/workbench/?due=overdue")
    assert [t.case_id for t in overdue.context["rows"]] == [second.pk]
    assert overdue.context["counts"]["overdue"] == 1
    Case.objects.filter(pk=second.pk).update(due_date=today)
    nearing = clerk.get("/workbench/?due=nearing")
    assert [t.case_id for t in nearing.context["rows"]] == [second.pk]
    assert nearing.context["counts"]["nearing"] == 1
    assert clerk.get("/workbench/?due=overdue").context["rows"] == []


def test_bad_filters_are_a_400_page_not_a_500(world: dict[str, Any], case: Case) -> None:
    clerk = client_for(world["clerk"])
    for query in ("scope=everything", "kind=x", "role=king", "due=soon", "cursor=%%%"):
        response = clerk.get(f"/workbench/?{query}")
        assert response.status_code == 400, query
        assert response.context["rows"] == []
    assert clerk.get("/workbench/?department=abc").status_code == 200  # ignored, not an error


def test_inbox_pages_by_cursor(world: dict[str, Any]) -> None:
    cases = [submitted(world) for _ in range(22)]
    clerk = client_for(world["clerk"])
    first = clerk.get("/workbench/")
    assert len(first.context["rows"]) == 20
    cursor = first.context["next_cursor"]
    assert cursor
    second = clerk.get("/workbench/", {"cursor": cursor})
    assert [t.case_id for t in second.context["rows"]] == [cases[1].pk, cases[0].pk]
    assert second.context["next_cursor"] is None
    # htmx asks for the rows only
    partial = clerk.get("/workbench/", {"cursor": cursor}, HTTP_HX_REQUEST="true")
    assert "<h1>" not in partial.content.decode()
    assert cases[0].number in partial.content.decode()


@pytest.mark.parametrize("query", ["", "?role=clerk", "?due=overdue"])
def test_inbox_query_count_does_not_grow_with_rows(
    world: dict[str, Any], count_queries: Any, query: str
) -> None:
    for _ in range(3):
        submitted(world)
    clerk = client_for(world["clerk"])
    clerk.get("/workbench/" + query)  # warm caches (calendar, session)
    with count_queries(20) as few:
        clerk.get("/workbench/" + query)
    first = len(few)
    for _ in range(12):
        submitted(world)
    with count_queries(first):
        response = clerk.get("/workbench/" + query)
    assert response.status_code == 200
    if not query:
        assert len(response.context["rows"]) == 15
    assert CaseTask.objects.filter(status="open").count() == 15
