"""Admin pages of federation (the OAuth clients' admin is in ``admin_clients``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

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


@admin.register(ExternalProvider)
class ExternalProviderAdmin(admin.ModelAdmin):
    form = ExternalProviderForm
    list_display = ("slug", "name", "issuer", "account_mode", "max_trust_level", "enabled")
    list_filter = ("enabled", "account_mode")


@admin.register(FederatedIdentity)
class FederatedIdentityAdmin(admin.ModelAdmin):
    list_display = ("provider", "subject", "user", "linked_at", "last_login_at")
    list_filter = ("provider",)
    raw_id_fields = ("user",)
    search_fields = ("subject",)
