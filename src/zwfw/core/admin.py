"""Admin pages of the shared kernel: the holiday calendar.

Saves and deletes go through the calendar service functions, so admin edits are validated,
audited and drop the calendar cache like any other edit.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from zwfw.core import calendar
from zwfw.core.errors import ValidationError as ZwfwValidationError
from zwfw.core.models import CalendarDay


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.pk}"


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name", "source"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day = cleaned.get("date") or (self.instance.date if self.instance.pk else None)
        if day is None or self.errors:
            return cleaned
        try:
            kind, name, source = calendar.validate_calendar_day(
                day, cleaned.get("kind", ""), cleaned.get("name", ""), cleaned.get("source", "")
            )
        except ZwfwValidationError as error:
            field = error.field if error.field in self.fields else None
            raise forms.ValidationError(
                {field: error.message} if field else error.message
            ) from None
        cleaned.update(kind=kind, name=name, source=source)
        return cleaned


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ["date", "weekday", "kind", "name", "source", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "source"]
    date_hierarchy = "date"
    ordering = ["-date"]

    @admin.display(description="星期")
    def weekday(self, obj: CalendarDay) -> str:
        return "一二三四五六日"[obj.date.weekday()]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Moving an entry to another date is a removal plus a new entry: two audit records.
        return ["date", "updated_at"] if obj is not None else ["updated_at"]

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        saved = calendar.set_calendar_day(
            obj.date, obj.kind, obj.name, obj.source, actor=_actor(request)
        )
        obj.pk, obj.updated_at = saved.pk, saved.updated_at

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        calendar.remove_calendar_day(obj.date, actor=_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        for day in list(queryset.values_list("date", flat=True)):
            calendar.remove_calendar_day(day, actor=_actor(request))
