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


# --- companies and agents ------------------------------------------------------------------


class Company(models.Model):
    """A legal person (法人) registered on the platform, represented by a person account."""

    class Source(models.TextChoices):
        ONLINE = "online", "网上注册（法定代表人身份比对）"
        WINDOW = "window", "窗口注册"
        LINKED = "linked", "关联注册（可信平台）"

    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("机构名称", max_length=200)
    legal_representative = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="represented_companies"
    )
    registered_address = models.CharField("注册地址", max_length=200, blank=True)
    registered_on = models.DateField("注册日期", null=True, blank=True)
    business_scope = models.TextField("经营范围", blank=True)
    trust_level = models.CharField(
        "实名等级", max_length=2, choices=TrustLevel.choices, default=TrustLevel.NONE
    )
    verified_via = models.CharField(max_length=8, choices=Source.choices)
    verified_at = models.DateTimeField()
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uscc"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return f"{self.uscc} {self.name}"


class AgentAuthorisation(models.Model):
    """A company's authorisation of a person as 经办人 (agent), for all or listed items."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="authorisations")
    agent = models.ForeignKey(User, on_delete=models.PROTECT, related_name="agent_authorisations")
    all_items = models.BooleanField(default=False)
    item_codes = models.JSONField(
        default=list, blank=True, help_text="basic or implementation codes in scope"
    )
    valid_from = models.DateField()
    valid_until = models.DateField()
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["agent", "company"], name="agent_auth_agent_idx"),
            models.Index(fields=["company", "id"], name="agent_auth_company_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")), name="agent_auth_dates"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_id}→{self.agent_id}"

    def is_active(self, on: Any = None) -> bool:
        """Not revoked and valid on ``on`` (a date; default today in Asia/Shanghai)."""
        day = on or timezone.localdate()
        return self.revoked_at is None and self.valid_from <= day <= self.valid_until

    def covers(self, item_code: str, basic_code: str = "") -> bool:
        """Whether the scope includes an item (by implementation or basic code)."""
        if self.all_items:
            return True
        scope = set(self.item_codes)
        return item_code in scope or bool(basic_code and basic_code in scope)


# --- real-name agreement -------------------------------------------------------------------


class AgreementVersion(models.Model):
    """A published version of the real-name registration agreement (实名注册协议)."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    text = models.TextField()
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class AgreementAcceptance(models.Model):
    """That a user accepted a version, when, from where, and how (online or at a window)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agreement_acceptances")
    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()
    ip = models.CharField(max_length=45, blank=True)
    channel = models.CharField(max_length=8, default="online")
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="agreement_accept_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} v{self.version_id}"


# --- login security ------------------------------------------------------------------------


class OneTimeCode(models.Model):
    """An SMS verification code; only a keyed SM3 hash of it is stored, never the code."""

    class Purpose(models.TextChoices):
        REGISTER = "register", "注册"
        LOGIN = "login", "登录"
        RESET = "reset", "找回密码"
        WINDOW = "window", "窗口注册确认"
        LINK = "link", "关联注册"

    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    phone_index = models.CharField(max_length=64)
    code_hash = models.CharField(max_length=64)
    salt = models.CharField(max_length=32)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["phone_index", "purpose", "-created_at"], name="otp_lookup_idx")
        ]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.pk}"


class TotpDevice(models.Model):
    """A TOTP authenticator (RFC 6238) of a user; the secret is SM4-encrypted."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = EncryptedTextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"totp:{self.user_id}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class Throttle(models.Model):
    """A fixed-window counter behind rate limits and lockouts (per account, IP, phone).

    ``key`` is a keyed hash of the account id, IP address or phone: never the value itself.
    """

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="throttle_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key[:8]}"


class UserSession(models.Model):
    """A signed-in session of a user, listed to them and ended remotely on request."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    session_key_hash = models.CharField(max_length=64, db_index=True)
    method = models.CharField(max_length=16, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at", "id"], name="user_session_list_idx")]

    def __str__(self) -> str:
        return f"session:{self.pk}"
