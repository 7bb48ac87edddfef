"""Who reaches the workbench, and what its navigation offers each role."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zwfw.organisations import services as organisations
from zwfw.organisations.models import Role
from zwfw.workbench.tests.conftest import client_for

pytestmark = pytest.mark.django_db

PAGES = ["/workbench/", "/workbench/cases/", "/workbench/catalog/", "/workbench/catalog/import/"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_go_to_the_login_page(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert url in response["Location"]


@pytest.mark.parametrize("url", PAGES)
def test_a_citizen_gets_the_403_page(world: dict[str, Any], url: str) -> None:
    response = client_for(world["person"]).get(url)
    assert response.status_code == 403
    assert "工作台仅供工作人员使用" in response.content.decode()


def test_navigation_follows_the_roles(world: dict[str, Any]) -> None:
    page = client_for(world["clerk"]).get("/workbench/").content.decode()
    nav = page.split('aria-label="工作台导航"')[1].split("</nav>")[0]
    assert "待办" in nav
    assert "办件查询" in nav
    assert "/workbench/identity/register/" in nav
    assert "事项管理" not in nav
    assert "/workbench/catalog/import/" not in nav

    from zwfw.identity.models import User

    user = User.objects.create_user("officer", password="x" * 12, kind="staff", real_name="陈静")
    organisations.grant_role(user=user, department=world["market"], role=Role.CATALOG_OFFICER)
    page = client_for(user).get("/workbench/catalog/").content.decode()
    nav = page.split('aria-label="工作台导航"')[1].split("</nav>")[0]
    assert "事项管理" in nav
    assert "/workbench/catalog/import/" in nav
    assert "待办" not in nav
    assert "/workbench/identity/register/" not in nav


def test_roles_without_case_work_get_403_on_case_pages(world: dict[str, Any]) -> None:
    from zwfw.identity.models import User

    user = User.objects.create_user("officer", password="x" * 12, kind="staff")
    organisations.grant_role(user=user, department=world["market"], role=Role.CATALOG_OFFICER)
    assert client_for(user).get("/workbench/").status_code == 403
    assert client_for(world["clerk"]).get("/workbench/catalog/").status_code == 403
    assert client_for(world["reviewer"]).get("/workbench/catalog/import/").status_code == 403
