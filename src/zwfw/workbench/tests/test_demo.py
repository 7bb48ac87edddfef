"""The workbench demo data: the second catalogue reviewer (J6)."""

from __future__ import annotations

import pytest

from zwfw.catalog.tests import factories
from zwfw.identity.models import User
from zwfw.organisations.models import Role, StaffMembership
from zwfw.workbench.demo import load_demo

pytestmark = pytest.mark.django_db


def test_second_catalogue_reviewer_is_loaded_once() -> None:
    justice = factories.department("广安市司法局")
    assert load_demo() == {"workbench_staff": 1}
    assert load_demo() == {"workbench_staff": 0}
    user = User.objects.get(username="legal_reviewer")
    assert user.real_name == "孙红"
    assert list(StaffMembership.objects.filter(user=user).values_list("department", "role")) == [
        (justice.pk, Role.CATALOG_REVIEWER)
    ]
    from zwfw.core.demo import DEMO_PASSWORD

    assert user.check_password(DEMO_PASSWORD)


def test_nothing_without_the_departments() -> None:
    assert load_demo() == {"workbench_staff": 0}
    assert not User.objects.filter(username="legal_reviewer").exists()
