"""The accounts API and pages: per role, masking, CSRF, query counts, hostile input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from zwfw.catalog.tests import factories as catalog_factories
from zwfw.core.models import AuditRecord
from zwfw.identity.models import User, UserSession
from zwfw.identity.tests.conftest import ELDER, LI_NA, PASSWORD, WANG, last_code, person, staff_user
from zwfw.organisations.models import Role, StaffMembership

pytestmark = pytest.mark.usefixtures("registry_data")


def _post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_register_online_through_the_api_and_sign_in(db: None) -> None:
    client = Client()
    sent = _post(
        client, "/api/v1/identity/sms-codes", {"phone": LI_NA.phone, "purpose": "register"}
    )
    assert sent.status_code == 202
    assert sent.json()["phone"] == "138****8000"
    body = {
        "id_number": LI_NA.id_number,
        "name": LI_NA.name,
        "phone": LI_NA.phone,
        "code": last_code(LI_NA.phone),
        "factors": {"social_security_card": LI_NA.social_security_card},
        "password": PASSWORD,
        "agreement_version": 1,
    }
    created = _post(client, "/api/v1/identity/register/person", body)
    assert created.status_code == 201, created.json()
    profile = created.json()
    # the owner sees their own identifiers in full
    assert (profile["id_number"], profile["phone"], profile["trust_level"]) == (
        LI_NA.id_number,
        LI_NA.phone,
        "L3",
    )
    assert client.get("/api/v1/identity/me").json()["real_name"] == "李娜"
    assert _post(client, "/api/v1/identity/logout", {}).status_code == 204
    assert client.get("/api/v1/identity/me").status_code == 401
    signed = _post(
        client, "/api/v1/identity/login", {"identifier": LI_NA.id_number, "password": PASSWORD}
    )
    assert signed.json() == {
        "status": "ok",
        "must_change_password": False,
        "agreement_required": False,
    }
    again = _post(client, "/api/v1/identity/register/person", body)
    assert again.status_code in (400, 409)


def test_login_errors_have_the_error_shape_and_429_on_lockout(db: None) -> None:
    person(LI_NA)
    client = Client()
    for _ in range(5):
        failed = _post(
            client, "/api/v1/identity/login", {"identifier": LI_NA.phone, "password": "Nope-nope-1"}
        )
        assert (failed.status_code, failed.json()["code"]) == (401, "identity.login_failed")
    locked = _post(
        client, "/api/v1/identity/login", {"identifier": LI_NA.phone, "password": PASSWORD}
    )
    assert (locked.status_code, locked.json()["code"]) == (429, "identity.account_locked")
    assert locked.json()["details"]["retry_after"] > 0
    assert AuditRecord.objects.filter(action="identity:lockout").count() == 1


def test_state_changing_calls_need_the_csrf_token(db: None) -> None:
    person(LI_NA)
    client = Client(enforce_csrf_checks=True)
    refused = _post(
        client, "/api/v1/identity/login", {"identifier": LI_NA.phone, "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    page = client.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    accepted = _post(
        client,
        "/api/v1/identity/login",
        {"identifier": LI_NA.phone, "password": PASSWORD},
        **{"X-CSRFToken": token},
    )
    assert accepted.status_code == 200


def test_window_registration_api_per_role_and_masking_for_the_clerk(db: None) -> None:
    clerk = staff_user("clerk9", Role.CLERK)
    reviewer = staff_user("rev9", Role.REVIEWER)
    body = {"id_number": ELDER.id_number, "name": ELDER.name, "agreement_version": 1}
    assert _post(Client(), "/api/v1/identity/register/window", body).status_code == 401
    denied = _post(_signed_in(reviewer), "/api/v1/identity/register/window", body)
    assert (denied.status_code, denied.json()["code"]) == (403, "identity.clerk_required")
    assert not User.objects.filter(kind="person").exists()
    created = _post(
        _signed_in(clerk),
        "/api/v1/identity/register/window",
        body,
        **{"Idempotency-Key": "win-0001"},
    )
    assert created.status_code == 201, created.json()
    shown = created.json()["user"]
    # the clerk is not the owner: identifiers masked
    assert shown["id_number"] == "511***********0056"
    assert shown["real_name"] == "刘**"
    assert len(created.json()["initial_password"]) == 12
    replay = _post(
        _signed_in(clerk),
        "/api/v1/identity/register/window",
        body,
        **{"Idempotency-Key": "win-0001"},
    )
    assert replay.json() == created.json()
    assert User.objects.filter(kind="person").count() == 1
    code_denied = _post(
        _signed_in(reviewer),
        "/api/v1/identity/sms-codes",
        {"phone": WANG.phone, "purpose": "window"},
    )
    assert code_denied.status_code == 403


def test_sessions_api_lists_own_sessions_in_bounded_queries(
    db: None, django_assert_max_num_queries: Any
) -> None:
    user = person(LI_NA)
    clients = [_signed_in(user) for _ in range(5)]
    other = person(WANG, username="wang")
    _signed_in(other)
    with django_assert_max_num_queries(6):
        listed = clients[0].get("/api/v1/identity/sessions").json()
    assert len(listed["items"]) == 5
    assert sum(1 for s in listed["items"] if s["current"]) == 1
    target = listed["items"][-1]["id"]
    foreign = UserSession.objects.get(user=other).pk
    assert clients[0].delete(f"/api/v1/identity/sessions/{foreign}").status_code == 404
    assert clients[0].delete(f"/api/v1/identity/sessions/{target}").status_code == 204
    assert clients[4].get("/api/v1/identity/me").status_code == 401


def test_staff_accounts_per_role(db: None) -> None:
    department = catalog_factories.department("广安市政务服务中心")
    admin = staff_user("nodeadmin", Role.NODE_ADMIN)
    dept_admin = staff_user("deptadmin", Role.DEPARTMENT_ADMIN, "广安市政务服务中心")
    clerk = staff_user("clerk7", Role.CLERK)
    body = {
        "username": "newclerk",
        "real_name": "周敏",
        "department_id": department.pk,
        "roles": ["clerk", "decider"],
    }
    denied = _post(_signed_in(clerk), "/api/v1/identity/staff", body)
    assert (denied.status_code, denied.json()["code"]) == (403, "identity.staff_admin")
    assert not User.objects.filter(username="newclerk").exists()
    escalate = _post(
        _signed_in(dept_admin), "/api/v1/identity/staff", {**body, "roles": ["node_admin"]}
    )
    assert escalate.status_code == 403
    created = _post(_signed_in(dept_admin), "/api/v1/identity/staff", body)
    assert created.status_code == 201, created.json()
    user = User.objects.get(username="newclerk")
    assert user.must_change_password
    assert sorted(StaffMembership.objects.filter(user=user).values_list("role", flat=True)) == [
        "clerk",
        "decider",
    ]
    listed = _signed_in(admin).get("/api/v1/identity/staff").json()["items"]
    assert {row["username"] for row in listed} >= {"newclerk", "clerk7"}
    assert _signed_in(clerk).get("/api/v1/identity/staff").status_code == 403
    again = _post(_signed_in(admin), "/api/v1/identity/staff", body)
    assert again.json()["code"] == "identity.staff_exists"


HOSTILE: list[Any] = [
    None,
    {},
    [],
    "x",
    {"phone": "１３８００１３８０００", "purpose": "register"},
    {"identifier": "' OR 1=1 --", "password": "x" * 5000},
    {
        "id_number": "５１１６０２",
        "name": "<script>",
        "phone": "+86",
        "code": "\u202e",
        "password": "",
    },
    {"uscc": "🙂" * 40, "name": "a"},
    {"version": "1e309"},
    {"code": 123456},
    {"agent_id_number": 1, "agent_name": [], "valid_from": "2026-02-30", "valid_until": "x"},
    {"uscc": None},
    {"username": "A", "real_name": "", "department_id": 10**20, "roles": ["god"]},
]
POSTS = [
    "sms-codes",
    "register/person",
    "register/window",
    "register/linked",
    "window/verify",
    "login",
    "login/sms",
    "login/totp",
    "agreement/accept",
    "password/change",
    "password/reset/code",
    "password/reset",
    "totp",
    "totp/confirm",
    "totp/remove",
    "companies",
    "companies/window",
    f"companies/{'9' * 18}/agents",
    "agents/99999999999999999999/revoke",
    "acting",
    "staff",
]


@pytest.mark.parametrize("signed_in", [False, True])
def test_no_input_makes_a_500(db: None, signed_in: bool) -> None:
    user = person(LI_NA)
    user.is_superuser = True
    user.save()
    client = _signed_in(user) if signed_in else Client()
    for path in POSTS:
        for body in HOSTILE:
            response = _post(client, f"/api/v1/identity/{path}", body)
            assert response.status_code < 500, (path, body, response.content[:300])
            assert "code" in response.json() or response.status_code < 300
    for path in (
        "me",
        "sessions?limit=0",
        "sessions?cursor=%%%",
        "agents/mine?limit=999",
        "companies/../agents",
        "staff?department=abc",
        "register/linked",
        "agreement",
    ):
        response = client.get(f"/api/v1/identity/{path}")
        assert response.status_code < 500, (path, response.content[:300])


# --- pages ---------------------------------------------------------------------------------------


def test_login_page_signs_in_and_honours_next(db: None) -> None:
    user = person(LI_NA)
    from zwfw.identity import services

    services.accept_agreement(user, 1)
    client = Client()
    page = client.get("/accounts/login/?next=/items/")
    assert page.status_code == 200
    assert 'for="identifier"' in page.content.decode()
    wrong = client.post(
        "/accounts/login/",
        {"identifier": LI_NA.id_number, "password": "Wrong-one-11", "next": "/items/"},
    )
    assert wrong.status_code == 400
    assert "账户或密码错误" in wrong.content.decode()
    done = client.post(
        "/accounts/login/", {"identifier": LI_NA.id_number, "password": PASSWORD, "next": "/items/"}
    )
    assert (done.status_code, done["Location"]) == (302, "/items/")
    offsite = Client().post(
        "/accounts/login/",
        {"identifier": LI_NA.id_number, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert offsite["Location"] == "/accounts/profile/"


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/profile/",
        "/accounts/sessions/",
        "/accounts/agents/",
        "/accounts/totp/",
        "/accounts/password/change/",
        "/accounts/agreement/",
    ],
)
def test_signed_in_pages_render_with_masking_only_for_others(db: None, path: str) -> None:
    user = person(LI_NA)
    from zwfw.identity import services

    services.accept_agreement(user, 1)
    assert Client().get(path).status_code in (200, 302)
    page = _signed_in(user).get(path)
    assert page.status_code == 200
    if path == "/accounts/profile/":
        assert LI_NA.id_number in page.content.decode()  # the owner sees it in full


@pytest.mark.parametrize(
    "path", ["/accounts/register/", "/accounts/password/reset/", "/accounts/login/"]
)
def test_public_pages_render(db: None, path: str) -> None:
    page = Client().get(path)
    assert page.status_code == 200
    assert "<label" in page.content.decode()


def test_window_page_for_clerks_only(db: None) -> None:
    clerk = staff_user("clerk8", Role.CLERK)
    assert _signed_in(person(LI_NA)).get("/workbench/identity/register/").status_code == 403
    client = _signed_in(clerk)
    assert client.get("/workbench/identity/register/").status_code == 200
    done = client.post(
        "/workbench/identity/register/",
        {
            "id_number": ELDER.id_number,
            "name": ELDER.name,
            "agreement_version": "1",
            "action": "register",
        },
    )
    assert done.status_code == 200
    text = done.content.decode()
    assert "注册成功" in text
    assert ELDER.id_number not in text  # masked for the clerk
    assert "511***********0056" in text


def test_register_page_posts_through_to_an_account(db: None) -> None:
    client = Client()
    client.post("/accounts/register/", {"phone": WANG.phone, "action": "send_code"})
    done = client.post(
        "/accounts/register/",
        {
            "id_number": WANG.id_number,
            "name": WANG.name,
            "phone": WANG.phone,
            "code": last_code(WANG.phone),
            "driving_licence_file": WANG.driving_licence_file,
            "password": PASSWORD,
            "agreement_version": "1",
            "action": "register",
        },
    )
    assert (done.status_code, done["Location"]) == (302, "/accounts/profile/")
    assert User.objects.get(kind="person").trust_level == "L3"


def test_staff_list_reads_a_bounded_number_of_queries(
    db: None, django_assert_max_num_queries: Any
) -> None:
    admin = staff_user("nodeadmin2", Role.NODE_ADMIN)
    for n in range(12):
        staff_user(f"clerk-{n:02d}", Role.CLERK)
    client = _signed_in(admin)
    with django_assert_max_num_queries(6):
        page = client.get("/api/v1/identity/staff?limit=10").json()
    assert len(page["items"]) == 10
    assert page["next_cursor"]
    rest = client.get(f"/api/v1/identity/staff?limit=10&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 3
