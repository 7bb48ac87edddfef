"""The demo data loads, is valid, and loading it again changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from zwfw.catalog.models import Item, ItemStatus
from zwfw.core import audit, demo
from zwfw.core.models import AuditRecord, CalendarDay
from zwfw.core.validators import validate_uscc
from zwfw.organisations.models import Department, Division, Role
from zwfw.organisations.selectors import has_role

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "demo staff accounts: admin" in out
    assert "catalog_items +" in out
    assert Item.objects.filter(status=ItemStatus.PUBLISHED).count() >= 200
    assert Division.objects.filter(code="511602", name="广安区").exists()
    assert CalendarDay.objects.filter(date="2026-10-01", kind="holiday").exists()
    assert Department.objects.count() == len(demo.DEPARTMENTS)
    for department in Department.objects.all():
        assert validate_uscc(department.uscc).code == department.uscc
    reviewer = get_user_model().objects.get(username="reviewer")
    assert reviewer.check_password(demo.DEMO_PASSWORD)
    market = Department.objects.get(name="广安市市场监督管理局")
    assert has_role(reviewer, Role.REVIEWER, market)
    assert market.parent.name == "广安市人民政府"
    # Everything is recorded as done by the loader, except the steps of the sample cases,
    # which name the person who took them (the agent, the clerk), as real cases do.
    audit_count = AuditRecord.objects.count()
    by_others = AuditRecord.objects.exclude(actor="system:load_demo")
    # The apps that build on cases act as they would live: the supervision sweep and the
    # indicator snapshot as their scheduled jobs, a rating as the person who rated.
    acting_as_live = ("cases.", "supervision.", "ratings.", "indicators.")
    others = by_others
    for prefix in acting_as_live:
        others = others.exclude(object_type__startswith=prefix)
    assert not others.exists(), list(others.values_list("action", "actor"))
    assert set(
        by_others.filter(object_type__startswith="cases.").values_list("action", flat=True)
    ) <= {
        "cases:case:create",
        "cases:case:add_material",
        "cases:case:submit",
        "cases:case:accept",
        "cases:process:register",  # the built-in processes, by the platform itself
    }

    again = demo.load_demo()
    assert again["departments"] == 0
    assert again["users"] == 0
    assert again["divisions"] == 0
    assert again["catalog_items"] == 0
    assert again["synonyms"] == 0
    assert Department.objects.count() == len(demo.DEPARTMENTS)
    assert AuditRecord.objects.count() == audit_count  # a no-op load audits nothing
    assert audit.verify_chain().ok


def test_government_uscc_is_valid() -> None:
    code = demo.government_uscc("511600", 4)
    parsed = validate_uscc(code)
    assert code.startswith("11511600")
    assert parsed.code == code
