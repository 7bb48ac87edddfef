"""好差评: ratings of cases and counter visits, and the rectification of bad ones (SPEC §8).

Codes (decision 0020):

* **level** — SPEC §8's code table: 1 非常满意, 2 满意, 3 基本满意, 4 不满意, 5 非常不满意 (so a
  *lower* code is better; pages show ``stars = 6 - level``). 差评 = levels 4 and 5.
* **channel** — the national 好差评 channel list, in SPEC's order: 1 PC端, 2 移动端, 3 二维码,
  4 政务大厅平板电脑, 5 政务大厅其他终端, 6 电话, 7 短信.
* **dimension scores** (办事效率, 办事指南准确度, 办事便捷度, 服务态度) are scores, 1–5 with 5
  best, optional.

A bad rating opens one :class:`Rectification` for the handling department ("谁办理谁负责").
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from zwfw.catalog.models import Item
from zwfw.core.pii import EncryptedTextField
from zwfw.organisations.models import Department


class RatingKind(models.TextChoices):
    CASE = "case", "一事一评"
    VISIT = "visit", "一次一评"


class Level(models.IntegerChoices):
    """评价等级 (SPEC §8: 1 is best)."""

    VERY_SATISFIED = 1, "非常满意"
    SATISFIED = 2, "满意"
    BASICALLY_SATISFIED = 3, "基本满意"
    DISSATISFIED = 4, "不满意"
    VERY_DISSATISFIED = 5, "非常不满意"


#: 满意 for the satisfaction rate: 非常满意 and 满意.
SATISFIED_LEVELS = (Level.VERY_SATISFIED.value, Level.SATISFIED.value)
#: 好评 (everything that is not a 差评): 非常满意, 满意, 基本满意.
GOOD_LEVELS = (*SATISFIED_LEVELS, Level.BASICALLY_SATISFIED.value)
#: 差评: 不满意 and 非常不满意 — each opens a rectification.
BAD_LEVELS = (Level.DISSATISFIED.value, Level.VERY_DISSATISFIED.value)


class Channel(models.TextChoices):
    """评价渠道 (national 好差评 data specification codes, SPEC §8's list)."""

    PC = "1", "PC端"
    MOBILE = "2", "移动端"
    QR_CODE = "3", "二维码"
    HALL_TABLET = "4", "政务大厅平板电脑"
    HALL_TERMINAL = "5", "政务大厅其他终端"
    PHONE = "6", "电话"
    SMS = "7", "短信"


DIMENSIONS = ("efficiency", "guide_accuracy", "convenience", "attitude")
DIMENSION_LABELS = {
    "efficiency": "办事效率",
    "guide_accuracy": "办事指南准确度",
    "convenience": "办事便捷度",
    "attitude": "服务态度",
}


def _score(label: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(label, null=True, blank=True, help_text="1–5, 5 best")


class Rating(models.Model):
    """One rating: of a case (一事一评) or of one counter visit (一次一评)."""

    kind = models.CharField(max_length=5, choices=RatingKind.choices)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="ratings"
    )
    visit_reference = models.CharField(
        "窗口服务编号", max_length=64, blank=True, help_text="the counter visit (一次一评)"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="ratings")
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, null=True, blank=True, related_name="ratings"
    )
    level = models.PositiveSmallIntegerField("评价等级", choices=Level.choices)
    efficiency = _score("办事效率")
    guide_accuracy = _score("办事指南准确度")
    convenience = _score("办事便捷度")
    attitude = _score("服务态度")
    # Free text can hold names and phone numbers: encrypted at rest, masked when shown to staff.
    text = EncryptedTextField("评价内容", blank=True)
    channel = models.CharField("评价渠道", max_length=1, choices=Channel.choices)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ratings",
    )
    rater_name = models.CharField("评价人（脱敏）", max_length=64, blank=True)
    named = models.BooleanField("实名留联系方式", default=False, help_text="wants a return call")
    contact_phone = EncryptedTextField("回访电话", blank=True)
    excluded = models.BooleanField(
        "不计入统计", default=False, help_text="an appeal against it was upheld (申诉成立)"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(kind="case"), name="rating_one_per_case"
            ),
            models.UniqueConstraint(
                fields=["visit_reference"],
                condition=Q(kind="visit"),
                name="rating_one_per_visit",
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=5), name="rating_level_range"
            ),
            models.CheckConstraint(
                condition=~Q(kind="case") | Q(case__isnull=False), name="rating_case_has_case"
            ),
            models.CheckConstraint(
                condition=~Q(kind="visit") | ~Q(visit_reference=""),
                name="rating_visit_has_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "-id"], name="rating_department_idx"),
            # Statistics of a department over a period (bench_ratings: 65 → 14 ms for a month
            # of one department among 200,000 ratings on SQLite).
            models.Index(fields=["department", "created_at"], name="rating_department_day_idx"),
            models.Index(fields=["item", "created_at"], name="rating_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.case_id or self.visit_reference} = {self.level}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS

    @property
    def stars(self) -> int:
        return 6 - self.level


class RatingToken(models.Model):
    """A single-use right to rate without logging in (the QR code on a notice or at a counter).

    The URL carries ``Signer``-signed ``{"t": id, "n": nonce}``; the row keeps the nonce's
    digest, the expiry and when it was used, so a token works once and a forged or copied-and-
    edited one does not work at all.
    """

    kind = models.CharField(max_length=5, choices=RatingKind.choices)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    visit_reference = models.CharField(max_length=64, blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=1, choices=Channel.choices, default=Channel.QR_CODE)
    nonce_digest = models.CharField(max_length=64)
    issued_by = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    rating = models.OneToOneField(
        Rating, on_delete=models.SET_NULL, null=True, blank=True, related_name="token"
    )

    def __str__(self) -> str:
        return f"token {self.pk} ({self.kind})"


class RectificationStatus(models.TextChoices):
    VERIFYING = "verifying", "核实中"
    FIXED = "fixed", "立行立改"
    LEDGER = "ledger", "限期整改"
    EXPLAINED = "explained", "解释说明"
    APPEALED = "appealed", "申诉复核中"
    APPEAL_REJECTED = "appeal_rejected", "申诉不成立（继续整改）"
    APPEAL_UPHELD = "appeal_upheld", "申诉成立"
    CLOSED = "closed", "已办结"


#: The three ways a department answers a verified bad rating.
OUTCOMES = (RectificationStatus.FIXED, RectificationStatus.LEDGER, RectificationStatus.EXPLAINED)
#: Statuses in which the department still owes an answer (verification).
AWAITING_DEPARTMENT = (RectificationStatus.VERIFYING, RectificationStatus.APPEAL_REJECTED)
FINAL = (RectificationStatus.CLOSED, RectificationStatus.APPEAL_UPHELD)


class Rectification(models.Model):
    """整改: the handling department's answer to one bad rating, closed by a supervisor."""

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="rectification")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="rectifications"
    )
    status = models.CharField(
        max_length=16, choices=RectificationStatus.choices, default=RectificationStatus.VERIFYING
    )
    opened_at = models.DateTimeField()
    deadline = models.DateField("整改期限", help_text="working days from opening")
    outcome = models.CharField(max_length=10, blank=True, help_text="fixed / ledger / explained")
    verification = models.TextField("核实情况", blank=True)
    measures = models.TextField("整改措施或说明", blank=True)
    ledger_deadline = models.DateField("台账整改期限", null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=64, blank=True)
    return_call_at = models.DateTimeField("回访时间", null=True, blank=True)
    return_call_by = models.CharField("回访人", max_length=64, blank=True)
    return_call_summary = models.TextField("回访情况", blank=True)
    appeal_reason = models.TextField("申诉理由", blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    appeal_opinion = models.TextField("复核意见", blank=True)
    appeal_reviewed_at = models.DateTimeField(null=True, blank=True)
    appeal_reviewed_by = models.CharField(max_length=64, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=64, blank=True)
    close_opinion = models.TextField("办结意见", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["department", "status", "-id"], name="rect_dept_status_idx"),
            models.Index(
                fields=["deadline"],
                name="rect_open_deadline_idx",
                condition=Q(status__in=["verifying", "appeal_rejected", "ledger"]),
            ),
        ]

    def __str__(self) -> str:
        return f"rectification {self.pk} [{self.status}]"

    def is_overdue(self, today: dt.date) -> bool:
        """See :func:`zwfw.ratings.selectors.overdue_q` (the same rule, in Python)."""
        if self.status in AWAITING_DEPARTMENT:
            return today > self.deadline
        if self.status == RectificationStatus.LEDGER and self.ledger_deadline is not None:
            return today > self.ledger_deadline
        return False


class RectificationStep(models.Model):
    """One step of a rectification's history."""

    rectification = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["rectification", "id"], name="rect_step_idx")]

    def __str__(self) -> str:
        return f"{self.rectification_id}: {self.action}"
