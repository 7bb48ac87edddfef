"""Admin pages for divisions, departments and staff roles; writes go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zwfw.organisations import services
from zwfw.organisations.models import Department, Division, StaffMembership


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "full_name", "level", "is_current")
    list_filter = ("level", "is_current")
    search_fields = ("code", "name", "full_name")
    readonly_fields = ("code", "name", "full_name", "level", "parent", "source", "is_current")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reference data: loaded by `zwfw load_divisions`

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "division", "level", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("name", "short_name", "uscc")
    autocomplete_fields = ("division", "parent")
    list_select_related = ("division",)

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        if change:
            fields = {
                f: form.cleaned_data[f] for f in form.changed_data if f in services.EDITABLE_FIELDS
            }
            services.update_department(obj, **fields)
        else:
            created = services.create_department(
                name=obj.name,
                division_code=obj.division_id,
                level=obj.level,
                uscc=obj.uscc,
                parent=obj.parent,
                short_name=obj.short_name,
                phone=obj.phone,
                address=obj.address,
            )
            obj.pk = created.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # departments are deactivated, never deleted: cases refer to them


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "role", "valid_until")
    list_filter = ("role",)
    search_fields = ("user__username", "department__name")
    autocomplete_fields = ("department",)

    def save_model(
        self, request: HttpRequest, obj: StaffMembership, form: Any, change: bool
    ) -> None:
        membership = services.grant_role(
            user=obj.user, department=obj.department, role=obj.role, valid_until=obj.valid_until
        )
        obj.pk = membership.pk

    def delete_model(self, request: HttpRequest, obj: StaffMembership) -> None:
        services.revoke_role(user=obj.user, department=obj.department, role=obj.role)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for membership in queryset.select_related("user", "department"):
            services.revoke_role(
                user=membership.user, department=membership.department, role=membership.role
            )
