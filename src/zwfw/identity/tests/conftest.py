"""Fixtures: the journey persons and company in the registries, staff, a request factory."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from zwfw.catalog.tests import factories as catalog_factories
from zwfw.core import context
from zwfw.identity.models import User
from zwfw.notifications.services import messages_for_recipient
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Role
from zwfw.registries import loading
from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE

LI_NA = JOURNEY_PEOPLE["li_na"]
WANG = JOURNEY_PEOPLE["wang_qiang"]
REP = JOURNEY_PEOPLE["company_rep"]
ELDER = JOURNEY_PEOPLE["elderly_man"]
COMPANY = JOURNEY_COMPANY
PASSWORD = "Qingshan-river-27"


@pytest.fixture
def registry_data(db: None) -> None:
    people = [person.row() for person in JOURNEY_PEOPLE.values()]
    report = loading.load_rows("population", enumerate(people, start=2), strict=True)
    assert report.created == len(people), report.errors
    report = loading.load_rows("legal_entity", [(2, JOURNEY_COMPANY.row())], strict=True)
    assert report.created == 1, report.errors


def last_code(phone: str) -> str:
    """The code of the newest SMS sent to ``phone`` (read from the outbox, as a phone would)."""
    message = messages_for_recipient(phone, "sms").order_by("-created_at").first()
    assert message is not None, "no SMS was sent"
    found = re.search(r"验证码为(\d{6})", message.body)
    assert found is not None
    return found.group(1)


def staff_user(username: str, role: str, department_name: str = "广安市政务服务中心") -> User:
    user = User.objects.create_user(username, password="x" * 12, kind="staff", real_name="张敏")
    department = catalog_factories.department(department_name)
    organisations.grant_role(user=user, department=department, role=role)
    return user


@pytest.fixture
def clerk(db: None) -> User:
    return staff_user("clerk1", Role.CLERK)


def make_request(user: Any = None, ip: str = "10.0.0.1", path: str = "/") -> Any:
    """A request with a database session (and ``user``), for services that take one."""
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().post(path, REMOTE_ADDR=ip)
    request.session = SessionStore()
    request.session.create()
    request.user = user if user is not None else AnonymousUser()
    return request


@pytest.fixture
def ip_context() -> Any:
    with context.bind(ip="10.0.0.1", request_id="test-request-1") as ctx:
        yield ctx


def person(
    journey: Any = None,
    *,
    level: str = "L3",
    password: str = PASSWORD,
    **extra: Any,
) -> User:
    """A registered person account (made directly, for tests of what comes after)."""
    journey = journey or LI_NA
    user = User(
        username=extra.pop("username", f"p{journey.id_number[-6:]}"),
        kind="person",
        real_name=journey.name,
        id_type="111",
        id_number=journey.id_number,
        phone=journey.phone,
        trust_level=level,
        **extra,
    )
    user.set_password(password)
    user.save()
    return user
