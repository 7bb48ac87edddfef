"""Public reference API: administrative divisions and departments (no personal data)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema

from zwfw.organisations import selectors
from zwfw.organisations.models import Department, Division

router = Router(tags=["organisations"])


class DivisionOut(Schema):
    code: str
    name: str
    full_name: str
    level: int
    parent_code: str | None
    is_current: bool


class DivisionPage(Schema):
    items: list[DivisionOut]
    next_cursor: str | None


class DivisionFilter(Schema):
    parent: str | None = None
    level: int | None = None
    cursor: str | None = None
    limit: int = 50


def _division(d: Division) -> dict:
    return {
        "code": d.code,
        "name": d.name,
        "full_name": d.full_name,
        "level": d.level,
        "parent_code": d.parent_id,
        "is_current": d.is_current,
    }


@router.get("/divisions", response=DivisionPage, summary="List administrative divisions")
def list_divisions(request: HttpRequest, filters: Query[DivisionFilter]) -> dict:
    page = selectors.list_divisions(
        parent=filters.parent, level=filters.level, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [_division(d) for d in page.items], "next_cursor": page.next_cursor}


@router.get("/divisions/{code}", response=DivisionOut, summary="One administrative division")
def get_division(request: HttpRequest, code: str) -> dict:
    return _division(selectors.get_division(code))


class DepartmentOut(Schema):
    id: int
    name: str
    short_name: str
    uscc: str | None
    division_code: str
    division_name: str
    level: int
    parent_id: int | None
    phone: str
    address: str


class DepartmentPage(Schema):
    items: list[DepartmentOut]
    next_cursor: str | None


class DepartmentFilter(Schema):
    division: str | None = None
    within: str | None = None
    cursor: str | None = None
    limit: int = 50


def _department(d: Department) -> dict:
    return {
        "id": d.pk,
        "name": d.name,
        "short_name": d.short_name,
        "uscc": d.uscc,
        "division_code": d.division_id,
        "division_name": d.division.full_name or d.division.name,
        "level": d.level,
        "parent_id": d.parent_id,
        "phone": d.phone,
        "address": d.address,
    }


@router.get("/departments", response=DepartmentPage, summary="List departments")
def list_departments(request: HttpRequest, filters: Query[DepartmentFilter]) -> dict:
    page = selectors.list_departments(
        division=filters.division,
        within=filters.within,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [_department(d) for d in page.items], "next_cursor": page.next_cursor}


@router.get("/departments/{department_id}", response=DepartmentOut, summary="One department")
def get_department(request: HttpRequest, department_id: int) -> dict:
    return _department(selectors.get_department(department_id))
