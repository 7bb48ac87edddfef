"""Admin pages of federation (the OAuth clients' admin is in ``admin_clients``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction

from zwfw.core import audit
from zwfw.sso.models import ExternalProvider, FederatedIdentity


class ExternalProviderForm(forms.ModelForm):
    issuer = forms.URLField(label="签发者（issuer）", max_length=300, assume_scheme="https")
    client_secret = forms.CharField(
        label="客户端密钥",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="留空则保持原密钥不变。",
    )

    class Meta:
        model = ExternalProvider
        fields = [
            "slug",
            "name",
            "issuer",
            "client_id",
            "client_secret",
            "scopes",
            "enabled",
            "account_mode",
            "max_trust_level",
        ]

    def clean_client_secret(self) -> str:
        value: str = self.cleaned_data.get("client_secret") or ""
        if not value and self.instance.pk:
            return str(self.instance.client_secret)
        return value


def provider_summary(provider: ExternalProvider) -> dict[str, Any]:
    """What the audit log keeps of a trusted provider (never its secret)."""
    return {
        "slug": provider.slug,
        "name": provider.name,
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "scopes": provider.scopes,
        "enabled": provider.enabled,
        "account_mode": provider.account_mode,
        "max_trust_level": provider.max_trust_level,
    }


@admin.register(ExternalProvider)
class ExternalProviderAdmin(admin.ModelAdmin):
    """Whom the node trusts to vouch for people: every change is audited."""

    form = ExternalProviderForm
    list_display = ("slug", "name", "issuer", "account_mode", "max_trust_level", "enabled")
    list_filter = ("enabled", "account_mode")

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        old = ExternalProvider.objects.get(pk=obj.pk) if change else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = provider_summary(obj)
            after["secret_changed"] = old is None or old.client_secret != obj.client_secret
            audit.record(
                "sso:external_provider:change" if change else "sso:external_provider:create",
                "sso.externalprovider",
                obj.pk,
                before=provider_summary(old) if old is not None else None,
                after=after,
            )

    def delete_model(self, request: Any, obj: Any) -> None:
        with transaction.atomic():
            audit.record(
                "sso:external_provider:delete",
                "sso.externalprovider",
                obj.pk,
                before=provider_summary(obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        with transaction.atomic():
            audit.record_many(
                audit.Entry(
                    "sso:external_provider:delete",
                    "sso.externalprovider",
                    str(obj.pk),
                    before=provider_summary(obj),
                )
                for obj in queryset
            )
            super().delete_queryset(request, queryset)


@admin.register(FederatedIdentity)
class FederatedIdentityAdmin(admin.ModelAdmin):
    list_display = ("provider", "subject", "user", "linked_at", "last_login_at")
    list_filter = ("provider",)
    raw_id_fields = ("user",)
    search_fields = ("subject",)
