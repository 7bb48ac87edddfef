"""The process registry (流程登记): built-in processes, imported BPMN files, item bindings.

A :class:`~zwfw.cases.models.ProcessDefinition` row is one version of one process ``key`` and
never changes: registering a changed file makes version *n + 1*, registering the same file
again (same SM3) returns the existing version. Cases keep the row they started with, so a new
version only affects new cases.

New cases of an item run the process bound to it (:class:`~zwfw.cases.models.ItemProcess`,
set by ``zwfw import_process``), otherwise a built-in one chosen by the item's content
(:func:`resolve_process`). The built-in files (:data:`BUILTIN`) are registered on first use and
re-registered when a deployment changes them (:func:`ensure_builtin`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from zwfw.cases import engine
from zwfw.cases.bpmn_import import Inspection, Problem, inspect_bpmn
from zwfw.cases.models import ItemProcess, ProcessDefinition
from zwfw.core import audit
from zwfw.core.crypto import sm3_hex
from zwfw.core.errors import Conflict, NotFound, ValidationError

#: Built-in process key -> file in ``zwfw/cases/processes/``.
BUILTIN = {
    "zwfw.immediate": "zwfw-immediate.bpmn",
    "zwfw.promised": "zwfw-promised.bpmn",
    "zwfw.parallel": "zwfw-parallel.bpmn",
    "zwfw.any_sign": "zwfw-any-sign.bpmn",
}
PROCESS_DIR = Path(__file__).resolve().parent / "processes"
#: Keys starting with this are the platform's own (imports may not use them).
RESERVED_PREFIX = "zwfw."
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
#: 即办件 (GB/T 39046 办件类型 1).
IMMEDIATE_CASE_TYPE = "1"
SYSTEM_ACTOR = "system"


class ProcessImportError(ValidationError):
    """A BPMN file cannot be imported; ``problems`` names every reason (and the warnings)."""

    def __init__(self, problems: list[Problem], filename: str = "") -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.is_error] or self.problems
        first = errors[0] if errors else None
        super().__init__(
            "cases.process_invalid",
            f"流程文件不能导入：{len(errors)} 个问题"
            + (f"，第一个：{first.describe()}" if first else ""),
            f"the process file cannot be imported: {len(errors)} problem(s)"
            + (f", the first: {first.reason_en}" if first else ""),
            details={
                "filename": filename,
                "problems": [problem.as_dict() for problem in self.problems],
            },
        )


# --- lookups ---------------------------------------------------------------------------------


def latest(key: str) -> ProcessDefinition | None:
    """The newest version of a process key (None when it was never registered)."""
    return ProcessDefinition.objects.filter(key=key).order_by("-version").first()


def resolve_process(item: Any, content: Mapping[str, Any]) -> ProcessDefinition:
    """The process a new case of ``item`` starts with.

    The item's binding when it has one; otherwise a built-in process by the content of the
    item version applied for: 即办件 (``case_type`` "1") → ``zwfw.immediate``; with
    共同实施部门 (``joint_departments``) → ``zwfw.parallel``; else ``zwfw.promised``.
    """
    binding = ItemProcess.objects.filter(item=item).select_related("process").first()
    if binding is not None:
        return binding.process
    case_type = str(content.get("case_type") or getattr(item, "case_type", "") or "")
    if case_type == IMMEDIATE_CASE_TYPE:
        key = "zwfw.immediate"
    elif content.get("joint_departments"):
        key = "zwfw.parallel"
    else:
        key = "zwfw.promised"
    return builtin(key)


def builtin(key: str) -> ProcessDefinition:
    """The current version of a built-in process (registering the files when needed)."""
    if key not in BUILTIN:
        raise NotFound(
            "cases.process_not_found",
            f"没有内置流程 {key}",
            f"no built-in process {key}",
            field="key",
        )
    ensure_builtin()
    definition = latest(key)
    if definition is None:  # rows gone since the in-process check (e.g. a reset database)
        ensure_builtin(force=True)
        definition = latest(key)
    if definition is None:  # pragma: no cover - ensure_builtin raises first
        raise NotFound("cases.process_not_found", f"没有流程 {key}", f"no process {key}")
    return definition


# --- built-in processes ----------------------------------------------------------------------

_builtin_files: dict[str, tuple[str, bytes, str]] = {}
_builtin_checked = False
_builtin_lock = threading.Lock()


def _builtin_sources() -> dict[str, tuple[str, bytes, str]]:
    """key -> (file name, content, SM3) of the built-in files, read once per process."""
    if not _builtin_files:
        with _builtin_lock:
            if not _builtin_files:
                for key, filename in BUILTIN.items():
                    data = (PROCESS_DIR / filename).read_bytes()
                    _builtin_files[key] = (filename, data, sm3_hex(data))
    return _builtin_files


def _mark_checked() -> None:
    global _builtin_checked  # noqa: PLW0603 - the in-process "up to date" flag
    _builtin_checked = True


def ensure_builtin(*, force: bool = False) -> None:
    """Register the built-in process files whose content is not the latest stored version.

    Idempotent; after the first successful check (committed) it costs nothing in this
    process. A changed file becomes a new version; cases keep the version they started with.
    """
    if _builtin_checked and not force:
        return
    sources = _builtin_sources()
    stored: dict[str, str] = {}
    rows = (
        ProcessDefinition.objects.filter(key__in=list(sources))
        .order_by("key", "-version")
        .values_list("key", "sha")
    )
    for key, sha in rows:
        stored.setdefault(key, sha)
    for key, (filename, data, sha) in sources.items():
        if stored.get(key) == sha:
            continue
        try:
            with transaction.atomic():
                _register(data, key=key, filename=filename, actor=SYSTEM_ACTOR, builtin=True)
        except IntegrityError:  # another process registered the same version meanwhile
            current = latest(key)
            if current is None or current.sha != sha:
                raise
    # Only once the rows are committed may this process skip the check.
    transaction.on_commit(_mark_checked)


def _reset_builtin_cache() -> None:
    """Forget the in-process check (tests, or after the database was replaced)."""
    global _builtin_checked  # noqa: PLW0603
    _builtin_checked = False
    _builtin_files.clear()


# --- registering files -----------------------------------------------------------------------


def validate_key(key: str) -> str:
    key = (key or "").strip()
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationError(
            "cases.process_key_invalid",
            "流程标识须为 1–128 个字母、数字或 _ . : -，以字母或数字开头",
            "a process key is 1-128 letters, digits or _ . : - starting with a letter or digit",
            field="key",
        )
    if key.startswith(RESERVED_PREFIX):
        raise ValidationError(
            "cases.process_key_reserved",
            f"以 {RESERVED_PREFIX} 开头的流程标识为平台内置流程保留",
            f"process keys starting with {RESERVED_PREFIX} are reserved for built-in processes",
            field="key",
        )
    return key


def inspect_file(xml: bytes, filename: str) -> Inspection:
    """Check, parse and dry-run a file; raises :class:`ProcessImportError` when it fails."""
    inspection = inspect_bpmn(xml, filename)
    if not inspection.ok:
        raise ProcessImportError(inspection.problems, filename)
    return inspection


def register_process(xml: bytes, *, key: str, filename: str, actor: str) -> ProcessDefinition:
    """Register a BPMN file as the next version of ``key`` (audited ``cases:process:register``).

    The file is checked first (:func:`zwfw.cases.bpmn_import.inspect_bpmn`): any error raises
    :class:`ProcessImportError` with every problem. A file identical (SM3) to the latest
    version of the key returns that version unchanged.
    """
    key = validate_key(key)
    with transaction.atomic():
        definition = _register(xml, key=key, filename=filename, actor=actor, builtin=False)
    return definition


def _register(
    xml: bytes, *, key: str, filename: str, actor: str, builtin: bool
) -> ProcessDefinition:
    sha = sm3_hex(xml)
    previous = (
        ProcessDefinition.objects.select_for_update().filter(key=key).order_by("-version").first()
    )
    if previous is not None and previous.sha == sha:
        return previous
    inspection = inspect_file(xml, filename)
    parsed = inspection.parsed
    assert parsed is not None  # inspect_file raised otherwise
    version = previous.version + 1 if previous is not None else 1
    try:
        with transaction.atomic():
            definition = ProcessDefinition.objects.create(
                key=key,
                version=version,
                name=(parsed.name or key)[:200],
                bpmn_xml=inspection.text,
                sha=sha,
                process_id=parsed.process_id[:128],
                spec=engine.stored_spec(parsed),
                task_meta=parsed.task_meta,
                has_accept_task=parsed.has_accept_task,
                source=(inspection.modeller or "")[:64],
                builtin=builtin,
                created_by=actor[:128],
            )
    except IntegrityError:
        if builtin:
            raise  # ensure_builtin re-checks
        raise Conflict(
            "cases.process_version_conflict",
            f"流程 {key} 正由他人同时登记新版本，请重试",
            f"someone registered a version of {key} at the same time; try again",
            field="key",
        ) from None
    audit.record(
        "cases:process:register",
        "cases.process",
        definition.pk,
        before=None if previous is None else _summary(previous),
        after={
            **_summary(definition),
            "filename": filename[:200],
            "warnings": [p.code for p in inspection.warnings],
        },
        actor=actor,
    )
    return definition


def _summary(definition: ProcessDefinition) -> dict[str, Any]:
    return {
        "key": definition.key,
        "version": definition.version,
        "sha": definition.sha,
        "name": definition.name,
        "process_id": definition.process_id,
        "source": definition.source,
        "builtin": definition.builtin,
    }


def bind_item(item: Any, definition: ProcessDefinition, actor: str) -> ItemProcess:
    """New cases of ``item`` run ``definition`` (audited ``cases:process:bind``)."""
    with transaction.atomic():
        existing = (
            ItemProcess.objects.select_for_update()
            .filter(item=item)
            .select_related("process")
            .first()
        )
        if existing is not None and existing.process_id == definition.pk:
            return existing
        before = None if existing is None else _binding_summary(existing.process)
        if existing is None:
            binding = ItemProcess.objects.create(
                item=item, process=definition, bound_by=actor[:128]
            )
        else:
            existing.process = definition
            existing.bound_by = actor[:128]
            existing.save(update_fields=["process", "bound_by", "bound_at"])
            binding = existing
        audit.record(
            "cases:process:bind",
            "catalog.item",
            item.pk,
            before=before,
            after=_binding_summary(definition),
            actor=actor,
        )
    return binding


def _binding_summary(definition: ProcessDefinition) -> dict[str, Any]:
    return {"process": definition.pk, "key": definition.key, "version": definition.version}
