"""Password hashing parameters, the staff command, the admin sign-in and the agreement text."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from zwfw.catalog.tests import factories as catalog_factories
from zwfw.core.models import AuditRecord
from zwfw.identity.hashers import Argon2idHasher
from zwfw.identity.models import AgreementVersion, User
from zwfw.organisations.models import StaffMembership


def test_argon2id_with_the_documented_parameters() -> None:
    from zwfw.settings import base

    assert base.PASSWORD_HASHERS[0] == "zwfw.identity.hashers.Argon2idHasher"
    hasher = Argon2idHasher()
    encoded = hasher.encode("Correct-horse-9", hasher.salt())
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify("Correct-horse-9", encoded)
    assert not hasher.verify("Correct-horse-8", encoded)
    # a hash made with Django's default parameters verifies and is marked for re-hashing
    from django.contrib.auth.hashers import Argon2PasswordHasher

    old = Argon2PasswordHasher().encode("Correct-horse-9", hasher.salt())
    assert hasher.verify("Correct-horse-9", old)
    assert hasher.must_update(old)
    assert not hasher.must_update(encoded)


@pytest.mark.django_db
def test_create_staff_command() -> None:
    department = catalog_factories.department("广安市政务服务中心")
    out = io.StringIO()
    call_command(
        "create_staff",
        "wangfang",
        "--name",
        "王芳",
        "--department",
        str(department.pk),
        "--role",
        "clerk",
        "--role",
        "decider",
        stdout=out,
    )
    user = User.objects.get(username="wangfang")
    password = out.getvalue().rsplit(": ", 1)[1].strip()
    assert user.check_password(password)
    assert (user.kind, user.is_staff, user.must_change_password) == ("staff", True, True)
    assert set(StaffMembership.objects.filter(user=user).values_list("role", flat=True)) == {
        "clerk",
        "decider",
    }
    record = AuditRecord.objects.get(action="identity:staff_create")
    assert record.actor == "system:create_staff"
    assert password not in str(record.after)
    with pytest.raises(CommandError):
        call_command(
            "create_staff", "wangfang", "--name", "王芳", "--department", "广安市政务服务中心",
            "--role", "clerk", stdout=io.StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError):
        call_command(
            "create_staff", "x1x", "--name", "王芳", "--department", "no such",
            "--role", "clerk", stdout=io.StringIO(),
        )  # fmt: skip


@pytest.mark.django_db
def test_admin_sign_in_goes_through_the_accounts_login() -> None:
    response = Client().get("/admin/login/?next=/admin/identity/user/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fidentity%2Fuser%2F"


@pytest.mark.django_db
def test_admin_lists_users_masked(admin_client: Client) -> None:
    from zwfw.identity.tests.conftest import LI_NA, person

    person(LI_NA)
    page = admin_client.get("/admin/identity/user/").content.decode()
    assert "511***********0023" in page
    assert LI_NA.id_number not in page


@pytest.mark.django_db
def test_agreement_v1_covers_the_required_topics() -> None:
    v1 = AgreementVersion.objects.get(version=1)
    assert v1.title == "实名注册协议"
    for topic in ("真实信息", "账户保管", "隐私与数据使用", "协议变更", "责任"):
        assert topic in v1.text
