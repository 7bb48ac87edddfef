"""Catalogue writes: change requests with review, publishing immutable versions, lineage.

Every operation of SPEC §3.4 (新增, 变更, 拆分, 合并, 暂停, 取消, 恢复) is a ``ChangeRequest``
that a catalogue officer of the item's department drafts and submits; the configured review
steps (default 编制审核 then 法制审核) each need a different reviewer holding the
``catalog_reviewer`` role, never the author. The last approval applies the change atomically:
new versions, status changes and lineage, all audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zwfw.catalog import search
from zwfw.catalog.content import ItemContent, content_hash, validate_content
from zwfw.catalog.identifiers import parse_implementation_code
from zwfw.catalog.models import (
    BasicItem,
    ChangeKind,
    ChangeRequest,
    ChangeReview,
    ChangeStatus,
    Item,
    ItemFacet,
    ItemLineage,
    ItemStatus,
    ItemVersion,
)
from zwfw.core import audit
from zwfw.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from zwfw.organisations.models import Department, Role
from zwfw.organisations.selectors import has_role

# --- review configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewStep:
    code: str
    name: str


def review_steps() -> list[ReviewStep]:
    """The configured review steps, e.g. ``staffing:编制审核,legal:法制审核``."""
    steps = []
    for part in settings.CATALOG_REVIEW_STEPS.split(","):
        code, _, name = part.strip().partition(":")
        if code:
            steps.append(ReviewStep(code.strip(), name.strip() or code.strip()))
    return steps


# --- permissions ---------------------------------------------------------------------------


def can_edit(user: Any, department: Department) -> bool:
    """Catalogue officers edit their own department's items; node administrators all."""
    return has_role(user, Role.CATALOG_OFFICER, department) or has_role(user, Role.NODE_ADMIN)


def _require_edit(user: Any, department: Department) -> None:
    if not can_edit(user, department):
        raise PermissionDenied(
            "catalog.not_department_officer",
            f"只有{department.name}的事项管理员可以维护该部门的事项。",
            "Only catalogue officers of the item's department may change it.",
            details={"department": department.pk},
        )


# --- publishing ----------------------------------------------------------------------------


def item_columns(content: ItemContent) -> dict[str, Any]:
    """The ``Item`` columns copied from a version's content (filters, facets, ordering)."""
    return {
        "name": content.name,
        "basic_code": content.basic_code,
        "item_type": content.item_type,
        "level": content.level,
        "case_type": content.case_type,
        "online_depth": content.online_depth,
        "targets": ",".join(content.targets),
        "person_themes": ",".join(content.person_themes),
        "legal_themes": ",".join(content.legal_themes),
        "promised_days": content.promised_time_limit.value,
        "charges_fee": content.charges_fee,
        "site_visits": content.site_visits,
    }


def facet_values(content: ItemContent) -> list[tuple[str, str]]:
    """(facet, value) pairs of a content document, for ``ItemFacet`` rows."""
    pairs = [("target", t) for t in content.targets]
    pairs += [("person_theme", t) for t in content.person_themes]
    pairs += [("legal_theme", t) for t in content.legal_themes]
    pairs += [("channel", c) for c in content.channels]
    pairs += [("life_event", e) for e in content.life_events]
    return pairs


def _basic_item(content: ItemContent) -> BasicItem | None:
    if not content.basic_code:
        return None
    basic, _ = BasicItem.objects.get_or_create(
        basic_code=content.basic_code,
        defaults={
            "name": content.name,
            "item_type": content.item_type,
            "level": content.level,
            "legal_bases": [b.model_dump(mode="json") for b in content.legal_bases],
        },
    )
    return basic


def publish_content(
    content: ItemContent,
    *,
    department: Department,
    change_request: ChangeRequest | None = None,
    actor: str = "",
) -> tuple[Item, ItemVersion | None]:
    """Make ``content`` the published version of its item (creating the item if new).

    Returns the item and the new version, or ``None`` as version when the content equals the
    current version (nothing changes). Call inside a transaction; audited by the caller's
    operation plus one ``catalog:item:publish`` entry.
    """
    parsed = parse_implementation_code(content.implementation_code)
    item = Item.objects.select_for_update().filter(implementation_code=parsed.code).first()
    digest = content_hash(content)
    if item is not None and item.current_version_id is not None:
        current = ItemVersion.objects.only("content_hash").get(pk=item.current_version_id)
        if current.content_hash == digest and item.status == ItemStatus.PUBLISHED:
            return item, None
    columns = item_columns(content)
    if item is None:
        item = Item(
            implementation_code=parsed.code,
            department=department,
            division=department.division,
            **columns,
        )
    else:
        for name, value in columns.items():
            setattr(item, name, value)
        item.department = department
    item.basic_item = _basic_item(content)
    item.status = ItemStatus.PUBLISHED
    item.version_count += 1
    item.save()
    now = timezone.now()
    version = ItemVersion.objects.create(
        item=item,
        number=item.version_count,
        content=content.model_dump(mode="json"),
        content_hash=digest,
        name=content.name,
        change_request=change_request,
        created_by=actor,
        published_at=now,
    )
    item.current_version = version
    item.save(update_fields=["current_version", "updated_at"])
    ItemFacet.objects.filter(item=item).delete()
    ItemFacet.objects.bulk_create(
        [ItemFacet(item=item, facet=f, value=v) for f, v in facet_values(content)]
    )
    search.index_items([item])
    audit.record(
        "catalog:item:publish",
        "catalog.item",
        item.pk,
        after={"version": version.number, "content_hash": digest, "name": content.name},
    )
    return item, version


def _set_status(item: Item, status: str, change_request: ChangeRequest) -> None:
    before = item.status
    item.status = status
    item.save(update_fields=["status", "updated_at"])
    search.index_items([item])
    audit.record(
        f"catalog:item:{status}",
        "catalog.item",
        item.pk,
        before={"status": before},
        after={"status": status, "change_request": change_request.pk},
    )


# --- change requests -----------------------------------------------------------------------

_ALLOWED_SOURCE_STATUS = {
    ChangeKind.CHANGE: {ItemStatus.PUBLISHED, ItemStatus.SUSPENDED},
    ChangeKind.SPLIT: {ItemStatus.PUBLISHED, ItemStatus.SUSPENDED},
    ChangeKind.MERGE: {ItemStatus.PUBLISHED, ItemStatus.SUSPENDED},
    ChangeKind.SUSPEND: {ItemStatus.PUBLISHED},
    ChangeKind.CANCEL: {ItemStatus.PUBLISHED, ItemStatus.SUSPENDED},
    ChangeKind.RESUME: {ItemStatus.SUSPENDED},
}


def _invalid(code: str, zh: str, en: str, **details: Any) -> ValidationError:
    return ValidationError(code, zh, en, details=details)


def _check_shape(kind: str, sources: Sequence[Item], proposals: Sequence[ItemContent]) -> None:
    expected: dict[str, tuple[str, str]] = {
        ChangeKind.ADD: ("0", "≥1"),
        ChangeKind.CHANGE: ("1", "1"),
        ChangeKind.SPLIT: ("1", "≥2"),
        ChangeKind.MERGE: ("≥2", "1"),
        ChangeKind.SUSPEND: ("≥1", "0"),
        ChangeKind.CANCEL: ("≥1", "0"),
        ChangeKind.RESUME: ("≥1", "0"),
    }
    if kind not in expected:
        raise _invalid(
            "catalog.change_kind",
            f"变更类型{kind}无效。",
            f"Unknown change kind {kind}.",
            allowed=sorted(expected),
        )
    want_sources, want_proposals = expected[kind]

    def fits(rule: str, n: int) -> bool:
        return n >= int(rule[1:]) if rule.startswith("≥") else n == int(rule)

    if not fits(want_sources, len(sources)) or not fits(want_proposals, len(proposals)):
        raise _invalid(
            "catalog.change_shape",
            f"“{ChangeKind(kind).label}”需要{want_sources}个原事项和{want_proposals}份事项内容，"
            f"实际为{len(sources)}个和{len(proposals)}份。",
            f"{kind} needs {want_sources} source item(s) and {want_proposals} proposal(s).",
            sources=len(sources),
            proposals=len(proposals),
        )


def _check_codes(kind: str, sources: Sequence[Item], proposals: Sequence[ItemContent]) -> None:
    codes_seen: set[str] = set()
    source_codes = {s.implementation_code for s in sources}
    for index, proposal in enumerate(proposals):
        code = parse_implementation_code(proposal.implementation_code).code
        if code in codes_seen:
            raise _invalid(
                "catalog.duplicate_code",
                f"第{index + 1}份事项内容的实施编码{code}重复。",
                "Two proposals share an implementation code.",
                index=index,
            )
        codes_seen.add(code)
        if kind == ChangeKind.CHANGE:
            if code not in source_codes:
                raise _invalid(
                    "catalog.change_code",
                    "变更不能修改实施编码；如需新编码请使用拆分或新增。",
                    "A change keeps the implementation code.",
                    index=index,
                )
        elif code not in source_codes and Item.objects.filter(implementation_code=code).exists():
            raise Conflict(
                "catalog.code_exists",
                f"实施编码{code}已被其他事项使用。",
                f"Implementation code {code} is already used.",
                details={"index": index, "implementation_code": code},
            )


@transaction.atomic
def create_change_request(
    *,
    user: Any,
    kind: str,
    department: Department,
    sources: Iterable[Item] = (),
    proposals: Iterable[Any] = (),
    reason: str = "",
) -> ChangeRequest:
    """Draft a change. Validates every proposal fully; raises ValidationError, Conflict,
    PermissionDenied (not an officer of the department), and changes nothing when it does."""
    _require_edit(user, department)
    source_list = list(sources)
    for source in source_list:
        if source.department_id != department.pk:
            _require_edit(user, source.department)
    contents = [p if isinstance(p, ItemContent) else validate_content(p) for p in proposals]
    _check_shape(kind, source_list, contents)
    for source in source_list:
        allowed = _ALLOWED_SOURCE_STATUS.get(ChangeKind(kind), set())
        if source.status not in allowed:
            raise _invalid(
                "catalog.source_status",
                f"事项“{source.name}”当前状态为{source.get_status_display()}，不能{ChangeKind(kind).label}。",
                f"Item {source.implementation_code} is {source.status}.",
                item=source.pk,
            )
    _check_codes(kind, source_list, contents)
    needs_reason = {ChangeKind.SPLIT, ChangeKind.MERGE, ChangeKind.CANCEL, ChangeKind.SUSPEND}
    if kind in needs_reason and not reason.strip():
        raise _invalid(
            "catalog.reason_required",
            f"{ChangeKind(kind).label}须说明理由。",
            "A reason is required.",
        )
    change = ChangeRequest.objects.create(
        kind=kind,
        department=department,
        proposals=[c.model_dump(mode="json") for c in contents],
        reason=reason.strip(),
        created_by=user,
    )
    change.sources.set(source_list)
    audit.record(
        "catalog:change_request:create",
        "catalog.change_request",
        change.pk,
        after={
            "kind": kind,
            "department": department.pk,
            "sources": [s.pk for s in source_list],
            "proposals": [c.implementation_code for c in contents],
        },
    )
    return change


def _locked(change: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.select_for_update().select_related("department").get(pk=change.pk)


def _require_status(change: ChangeRequest, *statuses: str) -> None:
    if change.status not in statuses:
        raise Conflict(
            "catalog.change_status",
            f"变更申请当前状态为“{change.get_status_display()}”，不能执行此操作。",
            f"The change request is {change.status}.",
            details={"status": change.status},
        )


@transaction.atomic
def submit_change_request(change: ChangeRequest, *, user: Any) -> ChangeRequest:
    """Send a draft to review (the configured steps are fixed on it now)."""
    change = _locked(change)
    _require_edit(user, change.department)
    _require_status(change, ChangeStatus.DRAFT)
    steps = review_steps()
    change.review_steps = [{"code": s.code, "name": s.name} for s in steps]
    change.current_step = 0
    change.status = ChangeStatus.IN_REVIEW
    change.submitted_at = timezone.now()
    change.save()
    audit.record(
        "catalog:change_request:submit",
        "catalog.change_request",
        change.pk,
        after={"steps": [s.code for s in steps]},
    )
    if not steps:  # review switched off by configuration: applies at once
        _apply(change, user)
    return change


@transaction.atomic
def withdraw_change_request(change: ChangeRequest, *, user: Any) -> ChangeRequest:
    change = _locked(change)
    _require_edit(user, change.department)
    _require_status(change, ChangeStatus.DRAFT, ChangeStatus.IN_REVIEW)
    change.status = ChangeStatus.WITHDRAWN
    change.decided_at = timezone.now()
    change.save()
    audit.record("catalog:change_request:withdraw", "catalog.change_request", change.pk)
    return change


@transaction.atomic
def review_change_request(
    change: ChangeRequest, *, user: Any, approve: bool, opinion: str = ""
) -> ChangeRequest:
    """Decide the current review step. The last approval applies the change.

    Raises PermissionDenied (not a catalogue reviewer, or the author, or the reviewer of an
    earlier step), Conflict (not in review), ValidationError (rejection without opinion).
    """
    change = _locked(change)
    _require_status(change, ChangeStatus.IN_REVIEW)
    if not has_role(user, Role.CATALOG_REVIEWER):
        raise PermissionDenied(
            "catalog.not_reviewer",
            "只有事项审核人员可以审核事项变更。",
            "Only catalogue reviewers may review changes.",
        )
    earlier = set(change.reviews.values_list("reviewer_id", flat=True))
    if user.pk == change.created_by_id or user.pk in earlier:
        raise PermissionDenied(
            "catalog.review_separation",
            "审核须由起草人以外、且未参与前一审核环节的人员进行。",
            "The author or an earlier step's reviewer may not review this step.",
        )
    if not approve and not opinion.strip():
        raise ValidationError(
            "catalog.review_opinion",
            "退回时须填写审核意见。",
            "An opinion is required when rejecting.",
            field="opinion",
        )
    step = change.review_steps[change.current_step]
    ChangeReview.objects.create(
        change_request=change,
        step=step["code"],
        reviewer=user,
        decision=ChangeReview.Decision.APPROVE if approve else ChangeReview.Decision.REJECT,
        opinion=opinion.strip(),
    )
    audit.record(
        "catalog:change_request:review",
        "catalog.change_request",
        change.pk,
        after={"step": step["code"], "approve": approve, "opinion": opinion.strip()},
    )
    if not approve:
        change.status = ChangeStatus.REJECTED
        change.decided_at = timezone.now()
        change.save()
        return change
    change.current_step += 1
    change.save()
    if change.current_step >= len(change.review_steps):
        _apply(change, user)
    return change


_STATUS_AFTER: dict[str, str] = {
    ChangeKind.SUSPEND: ItemStatus.SUSPENDED,
    ChangeKind.CANCEL: ItemStatus.CANCELLED,
    ChangeKind.RESUME: ItemStatus.PUBLISHED,
}


def _apply(change: ChangeRequest, user: Any) -> None:
    actor = f"user:{user.pk}"
    sources = list(change.sources.select_for_update().order_by("id"))
    proposals = [validate_content(p) for p in change.proposals]
    kind = change.kind
    created: list[Item] = []
    if kind in {ChangeKind.ADD, ChangeKind.CHANGE, ChangeKind.SPLIT, ChangeKind.MERGE}:
        for proposal in proposals:
            item, _ = publish_content(
                proposal, department=change.department, change_request=change, actor=actor
            )
            created.append(item)
    if kind in {ChangeKind.SPLIT, ChangeKind.MERGE}:
        for source in sources:
            for successor in created:
                if successor.pk != source.pk:
                    ItemLineage.objects.create(
                        predecessor=source, successor=successor, kind=kind, change_request=change
                    )
            if source.pk not in {c.pk for c in created}:
                _set_status(source, ItemStatus.CANCELLED, change)
    elif kind in _STATUS_AFTER:
        for source in sources:
            _set_status(source, _STATUS_AFTER[kind], change)
    change.status = ChangeStatus.APPROVED
    change.decided_at = timezone.now()
    change.save()
    audit.record(
        "catalog:change_request:apply",
        "catalog.change_request",
        change.pk,
        after={"kind": kind, "items": [i.pk for i in created] or [s.pk for s in sources]},
    )


def get_item_for_update(item_id: int) -> Item:
    item = Item.objects.filter(pk=item_id).select_related("department").first()
    if item is None:
        raise NotFound("catalog.item_unknown", "事项不存在。", "No such item.")
    return item
