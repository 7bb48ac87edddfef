"""电子监察 (electronic supervision): rules over cases, the warnings they raise, 督办 orders.

- :class:`Rule` — one supervision rule (seeded by a data migration; staff enable/disable it and
  tune its threshold). The rules themselves are SQL in :mod:`zwfw.supervision.engine`.
- :class:`Warning` — one finding of one rule on one case (预警). At most one *open* warning per
  (rule, case): a run raises it once, keeps it while the condition holds and clears it when the
  condition no longer holds; a later relapse opens a new record.
- :class:`Order` — a 督办 order to the responsible department, with a reply deadline in working
  days; unanswered orders escalate to the parent department.
- :class:`RunState` — the incremental watermark and the day of the last full pass.
- :class:`DayIndex` — working-day and natural-day ordinals per date, so the clock rules count
  "working days used" in SQL with a join instead of a Python loop per case.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from zwfw.organisations.models import Department


class Severity(models.TextChoices):
    YELLOW = "yellow", "黄色预警"
    ORANGE = "orange", "橙色预警"
    RED = "red", "红色预警"


class Rule(models.Model):
    """A supervision rule (监察规则), e.g. ``R02`` 办件临近超期."""

    code = models.CharField("规则编号", max_length=8, unique=True)
    name = models.CharField("规则名称", max_length=100)
    description = models.TextField("规则说明", blank=True)
    severity = models.CharField("预警类型", max_length=8, choices=Severity.choices)
    response_working_days = models.PositiveSmallIntegerField("督办回复期限（工作日）", default=2)
    enabled = models.BooleanField(default=True)
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text='thresholds, e.g. {"percent": 80}; {"auto_order": true} opens a 督办 order',
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class WarningStatus(models.TextChoices):
    OPEN = "open", "预警中"
    CLEARED = "cleared", "已解除"


class Warning(models.Model):
    """One finding of a rule on a case (监察预警; 监察编号 ``JC`` + date + serial)."""

    number = models.CharField("监察编号", max_length=24, unique=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="supervision_warnings"
    )
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="warnings")
    severity = models.CharField("预警类型", max_length=8, choices=Severity.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="supervision_warnings"
    )
    raised_at = models.DateTimeField("发出时间")
    updated_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=WarningStatus.choices, default="open")
    description = models.CharField("结果描述", max_length=500)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["department", "status", "-id"], name="sv_warning_dept_idx"),
            models.Index(fields=["status", "severity"], name="sv_warning_status_idx"),
            # The run recounts the departments whose warnings it touched (updated_at = run).
            models.Index(fields=["updated_at"], name="sv_warning_updated_idx"),
        ]
        constraints = [
            # Raised once: a run finds the open warning and keeps it instead of adding another.
            models.UniqueConstraint(
                fields=["rule", "case"],
                condition=Q(status="open"),
                name="sv_warning_open_unique",
            )
        ]

    def __str__(self) -> str:
        return self.number


class WarningCount(models.Model):
    """Open warnings per department and severity, kept by the rule runs (the only writers of
    warnings), so that ``/warnings/summary`` reads a few hundred rows instead of counting."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department", "severity"], name="sv_warning_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_id}/{self.severity}: {self.count}"


class OrderStatus(models.TextChoices):
    OPEN = "open", "待回复"
    RESPONDED = "responded", "已回复"
    ESCALATED = "escalated", "已升级"
    CLOSED = "closed", "已办结"


class Card(models.TextChoices):
    YELLOW = "yellow", "黄牌"
    RED = "red", "红牌"


class Order(models.Model):
    """督办 order (督办单; number ``DB`` + date + serial) to a responsible department."""

    number = models.CharField("督办编号", max_length=24, unique=True)
    warning = models.ForeignKey(
        Warning, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervision_orders",
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="supervision_orders"
    )
    issued_by = models.CharField(max_length=64, help_text="user:<id>, or system:supervision")
    issued_by_name = models.CharField(max_length=64, blank=True)
    reason = models.TextField("督办内容")
    issued_at = models.DateTimeField()
    response_deadline = models.DateField("回复期限")
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default="open")
    response = models.TextField("回复内容", blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.CharField(max_length=64, blank=True)
    responded_by_name = models.CharField(max_length=64, blank=True)
    escalated_to = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    card = models.CharField(max_length=8, choices=Card.choices, default=Card.YELLOW)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=64, blank=True)
    close_note = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["department", "status", "-id"], name="sv_order_dept_idx"),
            models.Index(
                fields=["response_deadline"],
                name="sv_order_due_idx",
                condition=Q(status__in=["open", "escalated"]),
            ),
        ]
        constraints = [
            # One order per warning: the sweep and a supervisor clicking cannot both open one.
            models.UniqueConstraint(
                fields=["warning"],
                condition=Q(warning__isnull=False),
                name="sv_order_warning_unique",
            )
        ]

    def __str__(self) -> str:
        return self.number


class NumberSequence(models.Model):
    """The last serial used per prefix (JC / DB) and day (row-locked when incremented)."""

    prefix = models.CharField(max_length=4)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="sv_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.day:%Y%m%d}: {self.last}"


class RunState(models.Model):
    """One row (id 1): where the incremental pass stands."""

    watermark = models.DateTimeField(null=True, blank=True, help_text="cases updated after it")
    last_full_date = models.DateField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run = models.JSONField(default=dict, blank=True, help_text="counts of the last run")
    calendar_stamp = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"watermark {self.watermark}"


class DayIndex(models.Model):
    """Ordinals of one date: ``natural`` days and ``working`` days since the table's start.

    ``working(b) - working(a)`` is the number of working days in (a, b] — exactly
    ``calendar.working_days_between(a, b)`` — so the rules join it instead of looping.
    Rebuilt from the holiday calendar when that changes (see engine.ensure_day_index).
    """

    day = models.DateField(primary_key=True)
    natural = models.IntegerField()
    working = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.day}: {self.working}"


__all__ = [
    "Card",
    "DayIndex",
    "NumberSequence",
    "Order",
    "OrderStatus",
    "Rule",
    "RunState",
    "Severity",
    "Warning",
    "WarningCount",
    "WarningStatus",
]
