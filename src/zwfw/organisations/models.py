"""Administrative divisions, departments and staff roles."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Division(models.Model):
    """An administrative division (行政区划, GB/T 2260): province → prefecture → county."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, "省级"
        PREFECTURE = 2, "地级"
        COUNTY = 3, "县级"
        TOWNSHIP = 4, "乡级"
        VILLAGE = 5, "村级"

    code = models.CharField(max_length=12, primary_key=True)
    name = models.CharField(max_length=64)
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    full_name = models.CharField(max_length=200, blank=True, help_text="e.g. 四川省广安市广安区")
    source = models.CharField(max_length=32, blank=True, help_text="data set it came from")
    is_current = models.BooleanField(default=True, help_text="False: only in older code lists")

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"], name="division_parent_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.full_name or self.name}"


class Department(models.Model):
    """A government department or other implementing body (实施主体), in a tree."""

    class Level(models.IntegerChoices):
        # 行使层级 codes 1–6 of SPEC §3.1 (7 分级管理 is an item attribute, not a body's).
        NATIONAL = 1, "国家级"
        PROVINCIAL = 2, "省级"
        MUNICIPAL = 3, "市级"
        COUNTY = 4, "县级"
        TOWNSHIP = 5, "镇（乡、街道）级"
        VILLAGE = 6, "村（社区）级"

    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=64, blank=True)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, null=True, blank=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="departments")
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    phone = models.CharField("咨询电话", max_length=32, blank=True)
    address = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["division_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Staff roles of SPEC §1 (a person may hold several, per department)."""

    CLERK = "clerk", "窗口人员"
    REVIEWER = "reviewer", "审批人员"
    DECIDER = "decider", "决定人员"
    CATALOG_OFFICER = "catalog_officer", "事项管理员"
    CATALOG_REVIEWER = "catalog_reviewer", "事项审核人员"
    SUPERVISOR = "supervisor", "监察人员"
    DATA_OFFICER = "data_officer", "数据管理员"
    DEPARTMENT_ADMIN = "department_admin", "部门管理员"
    NODE_ADMIN = "node_admin", "平台管理员"


class StaffMembership(models.Model):
    """A staff user's role in a department."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department", "role"], name="staff_membership_unique"
            )
        ]
        indexes = [models.Index(fields=["department", "role"], name="staff_dept_role_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.department_id}:{self.role}"
