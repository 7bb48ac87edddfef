"""Admin pages of accounts: read-mostly lists with masked identifiers.

Writes that carry rules (registration, trust levels, agents, passwords) go through the
services and the pages/API, not the admin; the admin's own sign-in goes through
``/accounts/login/`` so that lockout, TOTP and auditing apply to it too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from zwfw.core.masking import mask_id_number, mask_phone
from zwfw.identity.models import AgentAuthorisation, AgreementVersion, Company, User


def _login_through_accounts(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    return HttpResponseRedirect(f"{reverse('identity:login')}?{urlencode({'next': target})}")


admin.site.login = _login_through_accounts  # type: ignore[method-assign]


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("username", "kind", "real_name", "masked_id", "masked_phone", "trust_level")
    list_filter = ("kind", "trust_level", "is_active")
    search_fields = ("username",)
    fields = (
        "username",
        "kind",
        "real_name",
        "trust_level",
        "trust_source",
        "is_active",
        "is_staff",
        "must_change_password",
    )
    readonly_fields = ("username", "kind", "real_name", "trust_level", "trust_source")

    @admin.display(description="证件号码")
    def masked_id(self, obj: User) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description="手机号码")
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts are made by registration or zwfw create_staff


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("uscc", "name", "trust_level", "verified_via", "verified_at")
    search_fields = ("uscc", "name")
    list_select_related = ("legal_representative",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AgentAuthorisation)
class AgentAuthorisationAdmin(admin.ModelAdmin):
    list_display = ("company", "agent", "all_items", "valid_from", "valid_until", "revoked_at")
    list_select_related = ("company", "agent")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AgreementVersion)
class AgreementVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "title", "published_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a published version is immutable; publish a new one instead

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # publish through zwfw.identity.services.publish_agreement
