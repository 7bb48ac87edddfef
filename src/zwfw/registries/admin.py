"""Admin pages: registries read-only and masked; consumers and grants edited through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from zwfw.core import masking
from zwfw.core.errors import ZwfwError
from zwfw.registries import selectors, services
from zwfw.registries.models import Consumer, Grant, LegalEntityRecord, Mode, PersonRecord
from zwfw.registries.schema import REGISTRIES


class ReadOnlyAdmin(admin.ModelAdmin):
    """Registry records change only through loads (services); staff see them masked."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PersonRecord)
class PersonRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "masked_name",
        "masked_id_number",
        "sex",
        "birth_date",
        "household_division",
        "status",
        "updated_at",
    ]
    list_filter = ["status", "sex", "household_division"]
    search_help_text = "输入完整的18位公民身份号码查找（按盲索引精确匹配）"
    search_fields = ["household_division"]  # enables the box; see get_search_results
    fields = (
        "masked_name",
        "masked_id_number",
        "sex",
        "ethnicity",
        "birth_date",
        "household_division",
        "masked_address",
        "masked_phone",
        "masked_social_security_card",
        "masked_bank_card",
        "masked_housing_fund_account",
        "masked_driving_licence_file",
        "status",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            record = selectors.person_by_id_number(term)
        except ZwfwError:
            return queryset.none(), False
        return queryset.filter(pk=record.pk if record else None), False

    @admin.display(description="姓名")
    def masked_name(self, obj: PersonRecord) -> str:
        return masking.mask_name(obj.name)

    @admin.display(description="公民身份号码")
    def masked_id_number(self, obj: PersonRecord) -> str:
        return masking.mask_id_number(obj.id_number)

    @admin.display(description="户籍地址")
    def masked_address(self, obj: PersonRecord) -> str:
        return _masked("population", "address", obj.address)

    @admin.display(description="手机号码")
    def masked_phone(self, obj: PersonRecord) -> str:
        return masking.mask_phone(obj.phone)

    @admin.display(description="社会保障卡号")
    def masked_social_security_card(self, obj: PersonRecord) -> str:
        return _masked("population", "social_security_card", obj.social_security_card)

    @admin.display(description="银行卡号")
    def masked_bank_card(self, obj: PersonRecord) -> str:
        return _masked("population", "bank_card", obj.bank_card)

    @admin.display(description="住房公积金账号")
    def masked_housing_fund_account(self, obj: PersonRecord) -> str:
        return _masked("population", "housing_fund_account", obj.housing_fund_account)

    @admin.display(description="驾驶证档案编号")
    def masked_driving_licence_file(self, obj: PersonRecord) -> str:
        return _masked("population", "driving_licence_file", obj.driving_licence_file)


def _masked(registry: str, field: str, value: str) -> str:
    mask = REGISTRIES[registry].fields[field].mask
    return mask(value) if value and mask else value or ""


@admin.register(LegalEntityRecord)
class LegalEntityRecordAdmin(ReadOnlyAdmin):
    list_display = ["uscc", "name", "entity_type", "masked_rep_name", "status", "registration_date"]
    list_filter = ["status", "entity_type"]
    search_fields = ["=uscc", "name"]
    fields = (
        "uscc",
        "name",
        "entity_type",
        "masked_rep_name",
        "masked_rep_id_number",
        "address",
        "registration_date",
        "business_scope",
        "status",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="法定代表人")
    def masked_rep_name(self, obj: LegalEntityRecord) -> str:
        return masking.mask_name(obj.legal_rep_name)

    @admin.display(description="法定代表人公民身份号码")
    def masked_rep_id_number(self, obj: LegalEntityRecord) -> str:
        return masking.mask_id_number(obj.legal_rep_id_number)


# --- consumers and grants --------------------------------------------------------------------


class GrantForm(forms.ModelForm):
    registry = forms.ChoiceField(
        label="基础库", choices=[(c, s.label) for c, s in REGISTRIES.items()]
    )
    mode = forms.ChoiceField(label="方式", choices=Mode.choices)
    field_names = forms.CharField(
        label="字段", help_text="字段名，以逗号分隔，须包含查询标识（id_number / uscc）"
    )

    class Meta:
        model = Grant
        fields = ["registry", "mode", "unmasked", "valid_until"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["field_names"].initial = ",".join(self.instance.fields)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        names = [n.strip() for n in cleaned.get("field_names", "").split(",") if n.strip()]
        try:
            _, cleaned["fields"] = services.check_grant(
                cleaned.get("registry", ""),
                cleaned.get("mode", ""),
                names,
                bool(cleaned.get("unmasked")),
            )
        except ZwfwError as exc:
            raise forms.ValidationError(exc.message) from None
        return cleaned


class GrantInline(admin.TabularInline):
    model = Grant
    form = GrantForm
    extra = 0
    fields = [
        "registry",
        "mode",
        "field_names",
        "unmasked",
        "valid_until",
        "created_by",
        "created_at",
    ]
    readonly_fields = ["created_by", "created_at"]


class ConsumerForm(forms.ModelForm):
    class Meta:
        model = Consumer
        fields = ["name", "kind", "department", "client_id", "is_active"]


@admin.register(Consumer)
class ConsumerAdmin(admin.ModelAdmin):
    form = ConsumerForm
    list_display = ["name", "kind", "department", "client_id", "is_active", "has_api_key"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "client_id"]
    inlines = [GrantInline]
    actions = ["issue_key"]

    @admin.display(boolean=True, description="API密钥")
    def has_api_key(self, obj: Consumer) -> bool:
        return bool(obj.api_key_hash)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the audit log refers to consumers by id

    def save_model(self, request: HttpRequest, obj: Consumer, form: Any, change: bool) -> None:
        if change:
            services.update_consumer(
                obj,
                name=obj.name,
                kind=obj.kind,
                department_id=obj.department_id,
                client_id=obj.client_id,
                is_active=obj.is_active,
            )
        else:
            created, _ = services.create_consumer(
                name=obj.name,
                kind=obj.kind,
                department_id=obj.department_id,
                client_id=obj.client_id,
            )
            obj.pk = created.pk
            obj._state.adding = False
            if not obj.is_active:
                services.update_consumer(created, is_active=False)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        consumer = form.instance
        # The admin's change message reads these lists, which formset.save() would fill.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for grant_form in formset.forms:
            data = getattr(grant_form, "cleaned_data", None)
            if not data:
                continue
            instance = grant_form.instance
            if data.get("DELETE"):
                if instance.pk:
                    services.revoke_grant(Grant.objects.get(pk=instance.pk))
                    formset.deleted_objects.append(instance)
                continue
            values = {
                "registry": data["registry"],
                "mode": data["mode"],
                "fields": data["fields"],
                "unmasked": bool(data.get("unmasked")),
                "valid_until": data.get("valid_until"),
            }
            if instance.pk:
                if grant_form.has_changed():
                    grant = services.update_grant(Grant.objects.get(pk=instance.pk), **values)
                    formset.changed_objects.append((grant, grant_form.changed_data))
            else:
                grant = services.grant_scope(consumer=consumer, created_by=request.user, **values)
                formset.new_objects.append(grant)

    @admin.action(description="签发新的API密钥（原密钥失效）")
    def issue_key(self, request: HttpRequest, queryset: QuerySet[Consumer]) -> None:
        for consumer in queryset:
            key = services.issue_api_key(consumer)
            self.message_user(
                request,
                f"“{consumer.name}”的新API密钥（仅显示一次）：{key}",
                level=messages.WARNING,
            )
