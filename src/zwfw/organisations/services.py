"""Write operations on departments and staff roles: validated, atomic, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from zwfw.core import audit
from zwfw.core.errors import Conflict, ValidationError
from zwfw.organisations.models import Department, Division, Role, StaffMembership
from zwfw.organisations.selectors import division_prefix, get_division

EDITABLE_FIELDS = ("name", "short_name", "uscc", "phone", "address", "level", "is_active")


def _snapshot(department: Department) -> dict[str, Any]:
    return {
        "name": department.name,
        "short_name": department.short_name,
        "uscc": department.uscc,
        "division": department.division_id,
        "level": department.level,
        "parent": department.parent_id,
        "phone": department.phone,
        "address": department.address,
        "is_active": department.is_active,
    }


def _clean_uscc(uscc: str | None) -> str | None:
    if not uscc:
        return None
    from zwfw.core.validators import validate_uscc

    return validate_uscc(uscc).code


def _check_level(level: int) -> int:
    if level not in Department.Level.values:
        raise ValidationError(
            "department.level",
            f"部门层级{level}无效，应为1（国家级）至6（村级）。",
            f"Department level {level} is invalid (1 national … 6 village).",
            field="level",
        )
    return level


def _check_parent(parent: Department | None, division: Division) -> None:
    if parent is None:
        return
    # A department's parent sits in the same division or in one that contains it.
    if not division.code.startswith(division_prefix(parent.division_id)):
        raise ValidationError(
            "department.parent_division",
            "上级部门必须位于同一行政区划或其上级区划。",
            "The parent department must be in the same or an enclosing division.",
            field="parent",
        )


@transaction.atomic
def create_department(
    *,
    name: str,
    division_code: str,
    level: int,
    uscc: str | None = None,
    parent: Department | None = None,
    short_name: str = "",
    phone: str = "",
    address: str = "",
) -> Department:
    """Create a department. Raises ValidationError (bad USCC, level, division), Conflict."""
    name = name.strip()
    if not name:
        raise ValidationError(
            "department.name", "部门名称不能为空。", "Name is required.", field="name"
        )
    division = get_division(division_code)
    _check_parent(parent, division)
    department = Department(
        name=name,
        short_name=short_name.strip(),
        uscc=_clean_uscc(uscc),
        division=division,
        level=_check_level(level),
        parent=parent,
        phone=phone.strip(),
        address=address.strip(),
    )
    try:
        with transaction.atomic():
            department.save()
    except IntegrityError:
        raise Conflict(
            "department.duplicate",
            f"同一行政区划内已有名为“{name}”的部门，或统一社会信用代码已被使用。",
            "A department with this name (in this division) or this USCC exists.",
            details={"name": name, "uscc": department.uscc},
        ) from None
    audit.record(
        "organisations:department:create",
        "organisations.department",
        department.pk,
        after=_snapshot(department),
    )
    return department


@transaction.atomic
def update_department(department: Department, **changes: Any) -> Department:
    """Change a department's editable fields; records before/after of what changed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            "department.field",
            "包含不可修改的字段。",
            "Some fields cannot be changed.",
            details={"fields": sorted(unknown)},
        )
    locked = Department.objects.select_for_update().get(pk=department.pk)
    before = _snapshot(locked)
    if "uscc" in changes:
        changes["uscc"] = _clean_uscc(changes["uscc"])
    if "level" in changes:
        _check_level(changes["level"])
    for field, value in changes.items():
        setattr(locked, field, value.strip() if isinstance(value, str) else value)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise Conflict(
            "department.duplicate",
            "名称或统一社会信用代码与其他部门重复。",
            "Name or USCC already used by another department.",
        ) from None
    after = _snapshot(locked)
    changed = {k for k in after if after[k] != before[k]}
    if changed:
        audit.record(
            "organisations:department:update",
            "organisations.department",
            locked.pk,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return locked


@transaction.atomic
def grant_role(
    *, user: Any, department: Department, role: str, valid_until: dt.date | None = None
) -> StaffMembership:
    """Give ``user`` a staff role in ``department`` (idempotent: an existing grant is updated)."""
    if role not in Role.values:
        raise ValidationError(
            "staff.role", f"角色{role}不存在。", f"Unknown role {role}.", field="role"
        )
    membership, created = StaffMembership.objects.select_for_update().get_or_create(
        user=user, department=department, role=role, defaults={"valid_until": valid_until}
    )
    if not created:
        if membership.valid_until == valid_until:
            return membership  # already granted exactly so: nothing changes, nothing to audit
        membership.valid_until = valid_until
        membership.save(update_fields=["valid_until"])
    audit.record(
        "organisations:staff_role:grant",
        "auth.user",
        user.pk,
        after={"department": department.pk, "role": role, "valid_until": valid_until},
    )
    return membership


@transaction.atomic
def revoke_role(*, user: Any, department: Department, role: str) -> bool:
    """Take a role away; returns False when the user did not hold it (nothing audited)."""
    deleted, _ = StaffMembership.objects.filter(
        user=user, department=department, role=role
    ).delete()
    if deleted:
        audit.record(
            "organisations:staff_role:revoke",
            "auth.user",
            user.pk,
            before={"department": department.pk, "role": role},
        )
    return bool(deleted)
