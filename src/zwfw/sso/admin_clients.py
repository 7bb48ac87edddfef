"""Admin pages of OAuth clients: the toolkit's, with scopes, RS256 and audit records.

Named by ``OAUTH2_PROVIDER["APPLICATION_ADMIN_CLASS"]``; the toolkit registers it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from oauth2_provider.admin import ApplicationAdmin

from zwfw.core import audit
from zwfw.core.errors import ValidationError
from zwfw.sso.models import ClientPolicy
from zwfw.sso.services import check_client_scopes, client_summary


class ClientPolicyForm(forms.ModelForm):
    class Meta:
        model = ClientPolicy
        fields = ["scopes"]

    def clean_scopes(self) -> str:
        return " ".join(self.cleaned_data.get("scopes", "").split())


class ClientPolicyFormSet(BaseInlineFormSet):
    """Scopes are checked against the grant type posted with the client."""

    def clean(self) -> None:
        super().clean()
        grant = self.instance.authorization_grant_type
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            try:
                allowed = check_client_scopes(grant, form.cleaned_data.get("scopes", "").split())
            except ValidationError as error:
                raise forms.ValidationError(error.message, code=error.code) from None
            form.cleaned_data["scopes"] = " ".join(allowed)
            form.instance.scopes = " ".join(allowed)


class ClientPolicyInline(admin.StackedInline):
    model = ClientPolicy
    form = ClientPolicyForm
    formset = ClientPolicyFormSet
    can_delete = False
    min_num = 1
    max_num = 1


class ClientAdmin(ApplicationAdmin):
    inlines = [ClientPolicyInline]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        # ID tokens are RS256 for every client (see docs/decisions/0011-oidc-provider.md).
        return (*super().get_readonly_fields(request, obj), "algorithm")

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        obj.algorithm = obj.RS256_ALGORITHM
        obj._zwfw_before = client_summary(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        obj = form.instance
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            obj._zwfw_scopes = None  # the cached scope list predates the save
            after = client_summary(obj)
            audit.record(
                "sso:client:change" if change else "sso:client:create",
                "oauth2_provider.application",
                obj.client_id,
                before=getattr(obj, "_zwfw_before", None),
                after=after,
            )

    def delete_model(self, request: Any, obj: Any) -> None:
        with transaction.atomic():
            audit.record(
                "sso:client:delete",
                "oauth2_provider.application",
                obj.client_id,
                before=client_summary(obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        with transaction.atomic():
            audit.record_many(
                audit.Entry(
                    "sso:client:delete",
                    "oauth2_provider.application",
                    obj.client_id,
                    before=client_summary(obj),
                )
                for obj in queryset
            )
            super().delete_queryset(request, queryset)
