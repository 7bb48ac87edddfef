"""Records of the OpenID Connect provider beside django-oauth-toolkit's own tables.

The toolkit's models are used as they are (swapping them is fragile); what the platform adds
lives in small tables keyed one-to-one on the toolkit's rows:

* ``SubjectIdentifier`` — the opaque, stable ``sub`` of each account (never its ID number nor
  its database id);
* ``ClientPolicy`` — which scopes a client may receive;
* ``GrantContext`` / ``TokenContext`` — the session context captured at authorization time
  (the company a person acts for) that must reach tokens issued later, from another request;
* ``ExternalProvider`` / ``FederatedIdentity`` — other platforms' providers this node trusts,
  and which of their subjects is which local account (统分 / 分建 modes).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

from zwfw.core.pii import EncryptedTextField
from zwfw.identity.models import TrustLevel


def new_subject() -> str:
    return secrets.token_urlsafe(24)


class SubjectIdentifier(models.Model):
    """The ``sub`` claim of an account: random, stable, the same for every client ("public")."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    sub = models.CharField(max_length=64, unique=True, default=new_subject)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.sub


class ClientPolicy(models.Model):
    """What an OAuth client may ask for: its allowed scopes, space-separated."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="zwfw_policy",
    )
    scopes = models.TextField("允许的范围", blank=True, help_text="以空格分隔，如 openid profile")

    class Meta:
        verbose_name = "客户端授权范围"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.scopes


class GrantContext(models.Model):
    """Context of the session that approved an authorization code, until it is exchanged."""

    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    acting_for = models.JSONField()

    def __str__(self) -> str:
        return f"grant {self.grant_id}"


class TokenContext(models.Model):
    """The same context carried by an access token (userinfo, refresh)."""

    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    acting_for = models.JSONField()

    def __str__(self) -> str:
        return f"token {self.access_token_id}"


class ExternalProvider(models.Model):
    """Another platform's OpenID Connect provider whose sign-ins this node accepts."""

    class AccountMode(models.TextChoices):
        UNIFIED = "unified", "统分：统一认证，本地账号与之绑定"
        MUTUAL = "mutual", "分建：各自建设，账号互认"

    slug = models.SlugField(
        "标识", max_length=40, unique=True, help_text="用于地址 /sso/federation/<标识>/"
    )
    name = models.CharField("名称", max_length=100)
    issuer = models.URLField("签发者（issuer）", max_length=300)
    client_id = models.CharField(max_length=200)
    client_secret = EncryptedTextField(blank=True)
    scopes = models.CharField(max_length=300, default="openid profile zwfw.realname")
    enabled = models.BooleanField("启用", default=True)
    account_mode = models.CharField(
        "账号体系模式", max_length=8, choices=AccountMode.choices, default=AccountMode.UNIFIED
    )
    max_trust_level = models.CharField(
        "认可的最高实名等级",
        max_length=2,
        choices=TrustLevel.choices,
        default=TrustLevel.SELF_DECLARED,
        help_text="对方声明的实名等级最多按此等级认可。",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "外部身份提供方"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.name


class FederatedIdentity(models.Model):
    """A local account bound to a subject of an external provider."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="federated_identities"
    )
    provider = models.ForeignKey(
        ExternalProvider, on_delete=models.PROTECT, related_name="identities"
    )
    subject = models.CharField(max_length=255)
    linked_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "绑定的外部账号"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], name="sso_federated_unique_subject"
            ),
            models.UniqueConstraint(fields=["provider", "user"], name="sso_federated_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.provider.slug}:{self.subject}"
