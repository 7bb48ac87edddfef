"""Shared-kernel tables: the audit chain and the working-day calendar."""

from __future__ import annotations

from django.db import models


class AuditRecord(models.Model):
    """One append-only audit entry, chained to the previous one by SM3.

    ``entry_hash = SM3(prev_hash || canonical JSON of this entry)``; see ``zwfw.core.audit``.
    Rows are never updated or deleted by the platform; ``zwfw verify_audit`` proves it.
    """

    created_at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=128, blank=True, help_text="who acted (user/client id)")
    on_behalf_of = models.CharField(
        max_length=128, blank=True, help_text="for whom (company acted for by an agent, etc.)"
    )
    action = models.CharField(max_length=128, db_index=True, help_text="app:object:verb")
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """Single row holding the newest entry's id and hash.

    Appending locks this row, so concurrent writers take turns and the chain never forks.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.last_id} {self.last_hash[:12]}"


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a holiday, or a weekend day worked (调休)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "法定节假日 / 休息日"
        WORKDAY = "workday", "调休上班日"

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=64, blank=True, help_text="e.g. 国庆节")
    source = models.CharField(
        max_length=128, blank=True, help_text="notice that fixed it, e.g. 国办发明电〔2024〕12号"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class IdempotencyRecord(models.Model):
    """The stored answer to a creating request sent with an ``Idempotency-Key`` header.

    A retry with the same key (same caller) gets the same answer without a second effect; the
    same key with a different body is refused.
    """

    actor = models.CharField(max_length=128)
    key = models.CharField(max_length=128)
    endpoint = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["actor", "key"], name="idempotency_unique")]

    def __str__(self) -> str:
        return f"{self.actor}:{self.key}"
