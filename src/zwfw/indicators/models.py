"""Indicator weights, stored period results (snapshots) and the per-day case/rating rollups.

``DailyRollup`` holds, per Beijing-time day and department, the counts that the case- and
rating-based indicators need. Reading a year of a node's figures is then a sum over at most
365 × departments small rows instead of an aggregate over every case (decision 0021 has the
measurements at 1,000,000 cases). ``zwfw.indicators.rollups`` keeps the table up to date.
"""

from __future__ import annotations

from django.db import models

from zwfw.organisations.models import Department


class IndicatorWeight(models.Model):
    """A node administrator's weight for one indicator (first or second level).

    Codes without a row use the default weight of ``zwfw.indicators.definitions``.
    """

    code = models.CharField(max_length=40, unique=True)
    weight = models.DecimalField(max_digits=6, decimal_places=2)
    updated_by = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} = {self.weight}"


class IndicatorSnapshot(models.Model):
    """The computed result of one scope and period, stored for trends and for assessors."""

    period_from = models.DateField()
    period_to = models.DateField()
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="empty: the whole node",
    )
    total_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    result = models.JSONField(help_text="the full result as the API returns it")
    computed_at = models.DateTimeField()
    computed_by = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-period_to", "-id"]
        indexes = [
            models.Index(fields=["department", "-period_to"], name="ind_snapshot_scope_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.department_id or 'node'} {self.period_from}–{self.period_to}"


class DailyRollup(models.Model):
    """Counts of one Beijing-time day and one department (see ``docs/indicators.md``)."""

    day = models.DateField()
    # The first day of the day's month: the trend groups by it (a plain column, because
    # truncating a date in SQL is a Python function per row on SQLite).
    month = models.DateField()
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    # by the day of submitted_at
    submitted = models.PositiveIntegerField(default=0)
    submitted_online = models.PositiveIntegerField(default=0)
    # by the day of closed_at, status closed
    closed = models.PositiveIntegerField(default=0)
    closed_with_due = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    closed_zero_visit_online = models.PositiveIntegerField(default=0)
    closed_electronic = models.PositiveIntegerField(default=0)
    # ratings by the day of created_at, excluded ones left out; level 1 非常满意 … 5 非常不满意
    level_1 = models.PositiveIntegerField(default=0)
    level_2 = models.PositiveIntegerField(default=0)
    level_3 = models.PositiveIntegerField(default=0)
    level_4 = models.PositiveIntegerField(default=0)
    level_5 = models.PositiveIntegerField(default=0)
    # supervision warnings by the day of raised_at (a warning keeps its severity)
    warnings_yellow = models.PositiveIntegerField(default=0)
    warnings_orange = models.PositiveIntegerField(default=0)
    warnings_red = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "department"], name="ind_rollup_unique")
        ]
        indexes = [models.Index(fields=["department", "day"], name="ind_rollup_dept_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}"


class CatalogCounts(models.Model):
    """The catalogue counts of one department's published items (see ``docs/indicators.md``).

    Recomputed with the rollups whenever an item changed since the last computation: reading
    every published item's current content (JSON) on each request would grow with the
    catalogue.
    """

    department = models.OneToOneField(Department, on_delete=models.CASCADE, related_name="+")
    published = models.PositiveIntegerField(default=0)
    online_application = models.PositiveIntegerField(default=0)
    mobile = models.PositiveIntegerField(default=0)
    appointment = models.PositiveIntegerField(default=0)
    delivery = models.PositiveIntegerField(default=0)
    charging = models.PositiveIntegerField(default=0)
    charging_online_payment = models.PositiveIntegerField(default=0)
    depth_iii = models.PositiveIntegerField(default=0)
    depth_iv = models.PositiveIntegerField(default=0)
    max_one_visit = models.PositiveIntegerField(default=0)
    zero_visit = models.PositiveIntegerField(default=0)
    guide_complete = models.PositiveIntegerField(default=0)
    contact_complete = models.PositiveIntegerField(default=0)
    faq = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"catalogue counts of {self.department_id}"


class RollupState(models.Model):
    """One row (pk 1): when the rollups were last brought up to date (also the refresh lock)."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    covered_from = models.DateField(null=True, blank=True)
    catalog_refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollups refreshed {self.refreshed_at}"
