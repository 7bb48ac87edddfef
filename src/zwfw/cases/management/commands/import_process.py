"""``zwfw import_process FILE.bpmn --item CODE``: check a BPMN file, register it, bind it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zwfw.cases import engine
from zwfw.cases.bpmn_import import Inspection, Problem, inspect_bpmn
from zwfw.cases.processes import bind_item, latest, register_process, validate_key
from zwfw.catalog.models import Item
from zwfw.core import context
from zwfw.core.errors import ZwfwError
from zwfw.organisations.models import Role

ACTOR = "system:import_process"
#: Exit status when the file cannot be imported (unreadable, or problems were found).
EXIT_PROBLEMS = 1
#: Exit status for wrong usage (unknown item, bad key, missing --item).
EXIT_USAGE = 2


class Command(BaseCommand):
    help = (
        "Check a BPMN 2.0 file from any modeller (bpmn.io, Camunda, Flowable, Signavio, "
        "Bonita …), register it as the next version of a process and bind it to an item, so "
        "that the item's new cases run it. Every problem is reported with its line and element. "
        "Exit status 0 when imported (or checked), 1 when the file cannot be imported, 2 for "
        "wrong usage (unknown item, bad key)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .bpmn file")
        parser.add_argument("--item", help="implementation code (实施编码) of the item to bind")
        parser.add_argument(
            "--key", help="process key (default: item.<implementation code>)", default=""
        )
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="only check the file (and the item, when given); write nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        code = (options["item"] or "").strip()
        if not code and not options["check_only"]:
            raise CommandError(
                "须用 --item 指定事项实施编码，或用 --check-only 只检查 "
                "(pass --item CODE, or --check-only)",
                returncode=EXIT_USAGE,
            )
        item = self._item(code) if code else None
        key = ""
        if item is not None:
            try:
                key = validate_key(options["key"] or f"item.{item.implementation_code}")
            except ZwfwError as exc:
                raise CommandError(
                    f"{exc.message} ({exc.message_en}) [{exc.code}]", returncode=EXIT_USAGE
                ) from None
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise CommandError(
                f"无法读取文件 cannot read {path}: {reason}", returncode=EXIT_PROBLEMS
            ) from None
        inspection = inspect_bpmn(data, path.name)
        if not inspection.ok:
            for problem in inspection.problems:
                self._problem(problem, self.stderr)
            count = len(inspection.errors)
            raise CommandError(
                f"{path.name}: {count} 个问题，未导入 ({count} problem(s), not imported)",
                returncode=EXIT_PROBLEMS,
            )
        self._describe(inspection)
        if options["check_only"] or item is None:
            self.stdout.write(f"检查通过 check passed: {path.name}（未导入 nothing written）")
            return
        before = latest(key)
        try:
            with context.bind(actor=ACTOR):
                definition = register_process(data, key=key, filename=path.name, actor=ACTOR)
                bind_item(item, definition, ACTOR)
        except ZwfwError as exc:
            problems = exc.details.get("problems") or []
            for entry in problems:
                self._problem(Problem(**entry), self.stderr)
            raise CommandError(
                f"{exc.message} ({exc.message_en}) [{exc.code}]", returncode=EXIT_PROBLEMS
            ) from None
        reused = before is not None and before.pk == definition.pk
        self.stdout.write(
            f"流程 process {definition.key} 第 {definition.version} 版 (version "
            f"{definition.version})"
            + ("：与已登记的版本相同 (unchanged)" if reused else "：已登记 (registered)")
        )
        self.stdout.write(
            f"事项 item {item.implementation_code} {item.name}：新办件按此流程办理 "
            "(new cases run this process)"
        )

    def _item(self, code: str) -> Item:
        item = Item.objects.filter(implementation_code=code).first()
        if item is None:
            raise CommandError(
                f"没有实施编码为 {code} 的事项 (no item with implementation code {code})",
                returncode=EXIT_USAGE,
            )
        return item

    def _problem(self, problem: Problem, stream: Any) -> None:
        label = "警告 warning" if not problem.is_error else "错误 error"
        stream.write(f"{problem.describe()} [{problem.code}] ({label})")
        stream.write(f"    {problem.reason_en}")

    def _describe(self, inspection: Inspection) -> None:
        parsed = inspection.parsed
        assert parsed is not None
        source = f"，{inspection.modeller}" if inspection.modeller else ""
        self.stdout.write(f"{inspection.filename}: {parsed.name} ({parsed.process_id}{source})")
        self.stdout.write("人工环节 user tasks:")
        for bpmn_id, meta in parsed.task_meta.items():
            if meta.get("type") != "user":
                continue
            kind = meta.get("kind", "")
            role = meta.get("role") or ""
            if role not in Role.values:
                role = f"{engine.DEFAULT_ROLE.get(kind, 'reviewer')}（默认 default）"
            department = meta.get("department") or "事项实施部门 the item's department"
            if meta.get("multi_instance_item"):
                department += f"（多实例 each {meta['multi_instance_item']}）"
            limit = meta.get("time_limit")
            self.stdout.write(
                f"  {bpmn_id}  {meta.get('name', '')}  kind={kind} role={role} "
                f"department={department}" + (f" time_limit={limit}" if limit is not None else "")
            )
        services = [m for m in parsed.task_meta.items() if m[1].get("type") == "service"]
        if services:
            self.stdout.write("服务环节 service tasks:")
            for bpmn_id, meta in services:
                self.stdout.write(f"  {bpmn_id}  {meta.get('name', '')}  → {meta['operation']}")
        for problem in inspection.warnings:
            self._problem(problem, self.stdout)
