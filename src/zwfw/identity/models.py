"""Accounts: one user table for natural persons and staff (machines are OIDC clients).

Personal identifiers (ID number, phone) are encrypted at rest with blind indexes for lookup;
the login name of a person is an opaque handle, and people may also sign in with their ID
number or phone (see ``backends.py``). Trust levels follow SPEC §6 (L2–L5; L1 = none yet).
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from zwfw.core import codes
from zwfw.core.pii import BlindIndexField, EncryptedTextField


class TrustLevel(models.TextChoices):
    NONE = "L1", "未实名"
    SELF_DECLARED = "L2", "L2 自主声明（格式校验）"
    REGISTRY_MATCHED = "L3", "L3 基础库核验（两项以上要素）"
    IN_PERSON = "L4", "L4 本人现场核验"
    CERTIFICATE = "L5", "L5 数字证书"


TRUST_ORDER = {level.value: rank for rank, level in enumerate(TrustLevel)}


def trust_at_least(level: str, minimum: str) -> bool:
    """Whether ``level`` reaches ``minimum`` (unknown levels reach nothing)."""
    return TRUST_ORDER.get(level, -1) >= TRUST_ORDER.get(minimum, len(TRUST_ORDER))


def new_handle(prefix: str = "p") -> str:
    """An opaque login handle that reveals nothing about the person."""
    return prefix + secrets.token_hex(6)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> User:
        if not username:
            raise ValueError("username is required")
        user = self.model(username=username, **extra)
        user.set_password(password)  # None → unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("kind", User.Kind.STAFF)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person or a staff member who signs in (用户, GB/T 39046 user data)."""

    class Kind(models.TextChoices):
        PERSON = "person", "自然人"
        STAFF = "staff", "工作人员"

    username = models.CharField("登录名", max_length=150, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PERSON)
    real_name = models.CharField("姓名", max_length=64, blank=True)
    id_type = models.CharField(
        "证件类型", max_length=3, choices=codes.IdentityDocumentType.choices, blank=True
    )
    id_number = EncryptedTextField("证件号码", blank=True)
    id_number_index = BlindIndexField(source="id_number")
    phone = EncryptedTextField("手机号码", blank=True)
    phone_index = BlindIndexField(source="phone")
    email = models.EmailField("电子邮箱", blank=True)
    sex = models.CharField("性别", max_length=1, choices=codes.Sex.choices, blank=True)
    ethnicity = models.CharField("民族", max_length=2, choices=codes.Ethnicity.choices, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    work_unit = models.CharField("工作单位", max_length=200, blank=True)
    trust_level = models.CharField(
        "实名等级", max_length=2, choices=TrustLevel.choices, default=TrustLevel.NONE
    )
    trust_source = models.CharField(
        max_length=32, blank=True, help_text="how the level was reached (online, window, ca…)"
    )
    trust_updated_at = models.DateTimeField(null=True, blank=True)
    must_change_password = models.BooleanField(default=False)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField("可登录管理后台", default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number_index"],
                condition=~Q(id_number_index=""),
                name="user_unique_id_number",
            ),
            models.UniqueConstraint(
                fields=["phone_index"], condition=~Q(phone_index=""), name="user_unique_phone"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def get_full_name(self) -> str:
        return self.real_name or self.username

    def get_short_name(self) -> str:
        return self.real_name or self.username
