"""Departments and staff roles: services, selectors, the public API, pagination."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from zwfw.core.errors import Conflict, NotFound, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.organisations import selectors, services
from zwfw.organisations.models import Department, Division, Role, StaffMembership

pytestmark = pytest.mark.django_db


@pytest.fixture
def divisions() -> dict[str, Division]:
    sichuan = Division.objects.create(code="510000", name="四川省", level=1, full_name="四川省")
    guangan = Division.objects.create(
        code="511600", name="广安市", level=2, parent=sichuan, full_name="四川省广安市"
    )
    district = Division.objects.create(
        code="511602", name="广安区", level=3, parent=guangan, full_name="四川省广安市广安区"
    )
    chengdu = Division.objects.create(
        code="510100", name="成都市", level=2, parent=sichuan, full_name="四川省成都市"
    )
    return {"510000": sichuan, "511600": guangan, "511602": district, "510100": chengdu}


def _department(name: str, division: str = "511600", **extra: object) -> Department:
    return services.create_department(name=name, division_code=division, level=3, **extra)


def test_create_department_is_audited(divisions) -> None:
    department = _department(" 广安市市场监督管理局 ", phone="0826-1234567")
    assert department.name == "广安市市场监督管理局"
    entry = AuditRecord.objects.get(action="organisations:department:create")
    assert entry.object_id == str(department.pk)
    assert entry.after["name"] == "广安市市场监督管理局"
    assert entry.after["division"] == "511600"


def test_create_department_rejects_bad_input_and_changes_nothing(divisions) -> None:
    with pytest.raises(ValidationError) as level_error:
        services.create_department(name="某局", division_code="511600", level=9)
    assert level_error.value.code == "department.level"
    with pytest.raises(NotFound) as division_error:
        services.create_department(name="某局", division_code="999999", level=3)
    assert division_error.value.code == "division.unknown"
    with pytest.raises(ValidationError) as name_error:
        services.create_department(name="  ", division_code="511600", level=3)
    assert name_error.value.field == "name"
    assert Department.objects.count() == 0
    assert AuditRecord.objects.count() == 0


def test_duplicate_name_in_division_is_a_conflict(divisions) -> None:
    _department("广安市公安局")
    with pytest.raises(Conflict) as error:
        _department("广安市公安局")
    assert error.value.code == "department.duplicate"
    assert Department.objects.count() == 1
    assert AuditRecord.objects.count() == 1
    _department("广安市公安局", division="511602")  # same name elsewhere is fine


def test_parent_must_enclose_the_child(divisions) -> None:
    city = _department("广安市人民政府")
    _department("广安区人民政府", division="511602", parent=city)
    with pytest.raises(ValidationError) as error:
        _department("成都市某局", division="510100", parent=city)
    assert error.value.code == "department.parent_division"


def test_update_records_only_what_changed(divisions) -> None:
    department = _department("广安市民政局")
    services.update_department(department, phone="0826-7654321", name="广安市民政局")
    entry = AuditRecord.objects.get(action="organisations:department:update")
    assert entry.before == {"phone": ""}
    assert entry.after == {"phone": "0826-7654321"}
    with pytest.raises(ValidationError) as error:
        services.update_department(department, division="510100")
    assert error.value.details == {"fields": ["division"]}


def test_roles_grant_check_expire_and_revoke(divisions, django_user_model) -> None:
    clerk = django_user_model.objects.create_user("clerk", password="x" * 12)
    hall = _department("广安市政务服务中心")
    other = _department("广安市税务局")
    services.grant_role(user=clerk, department=hall, role=Role.CLERK)
    assert selectors.has_role(clerk, Role.CLERK)
    assert selectors.has_role(clerk, Role.CLERK, hall)
    assert not selectors.has_role(clerk, Role.CLERK, other)
    assert not selectors.has_role(clerk, Role.REVIEWER)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    services.grant_role(user=clerk, department=hall, role=Role.CLERK, valid_until=yesterday)
    assert StaffMembership.objects.count() == 1
    assert not selectors.has_role(clerk, Role.CLERK)
    assert services.revoke_role(user=clerk, department=hall, role=Role.CLERK)
    assert not services.revoke_role(user=clerk, department=hall, role=Role.CLERK)
    actions = list(AuditRecord.objects.values_list("action", flat=True))
    assert actions.count("organisations:staff_role:grant") == 2
    assert actions.count("organisations:staff_role:revoke") == 1
    with pytest.raises(ValidationError):
        services.grant_role(user=clerk, department=hall, role="emperor")


def test_anonymous_user_has_no_role() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert not selectors.has_role(AnonymousUser(), Role.CLERK)


def test_department_list_pages_by_keyset_without_n_plus_1(divisions, client: Client) -> None:
    for i in range(7):
        _department(f"部门{i}", division="511602" if i % 2 else "511600")
    seen: list[int] = []
    cursor = None
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            params = {"limit": 3, "within": "511600"}
            if cursor:
                params["cursor"] = cursor
            body = client.get("/api/v1/departments", params).json()
            seen += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
    assert cursor is None
    assert seen == sorted(Department.objects.values_list("id", flat=True))
    # one query per page, whatever the page size: departments joined with their divisions
    assert len([q for q in queries.captured_queries if "organisations_" in q["sql"]]) == 3
    body = client.get("/api/v1/departments", {"division": "511602"}).json()
    assert [item["name"] for item in body["items"]] == ["部门1", "部门3", "部门5"]
    assert body["items"][0]["division_name"] == "四川省广安市广安区"


def test_list_rejects_bad_cursor_and_limit(divisions, client: Client) -> None:
    response = client.get("/api/v1/departments", {"cursor": "!!garbage"})
    assert response.status_code == 400
    assert response.json()["code"] == "pagination.cursor"
    response = client.get("/api/v1/departments", {"limit": 1000})
    assert response.status_code == 400
    assert response.json()["details"] == {"field": "limit", "value": 1000, "max": 200}
    response = client.get("/api/v1/departments", {"limit": "many"})
    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid"
    assert response.json()["details"]["errors"][0]["field"] == "limit"


def test_division_endpoints(divisions, client: Client) -> None:
    body = client.get("/api/v1/divisions", {"parent": "510000"}).json()
    assert [d["code"] for d in body["items"]] == ["510100", "511600"]
    one = client.get("/api/v1/divisions/511602").json()
    assert one == {
        "code": "511602",
        "name": "广安区",
        "full_name": "四川省广安市广安区",
        "level": 3,
        "parent_code": "511600",
        "is_current": True,
    }
    missing = client.get("/api/v1/divisions/000000")
    assert missing.status_code == 404
    assert missing.json()["code"] == "division.unknown"


def test_department_detail_404(client: Client) -> None:
    response = client.get("/api/v1/departments/999")
    assert response.status_code == 404
    assert response.json()["code"] == "department.unknown"
    assert client.get("/api/v1/departments/abc").status_code == 422
