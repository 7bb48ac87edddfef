"""``zwfw import_items FILE``: import a catalogue spreadsheet (.xlsx or .csv)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zwfw.catalog.importing import (
    DEFAULT_BATCH_SIZE,
    ImportReport,
    import_file,
    parse_mapping,
)
from zwfw.core import context
from zwfw.core.errors import ZwfwError

#: Rejected-row lines printed to the terminal (the full list goes to --report).
SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Import service items from an .xlsx or .csv file in the platform template, or in another "
        "layout through a mapping file (docs/catalog-import.md). Good rows are published (a new "
        "version only when the content changed), bad rows are reported with row, column and "
        "reason. Exit status 1 when the file cannot be imported at all, 2 when rows were rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx or .csv file")
        parser.add_argument("--mapping", help="mapping file (JSON) for a foreign layout")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate everything, write nothing"
        )
        parser.add_argument(
            "--user",
            help="username of the staff member the import is recorded for "
            "(default: the first active superuser)",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="extra processes validating rows while this one writes (default 0; worth it "
            "only on a machine with idle cores)",
        )
        parser.add_argument("--report", help="write the full report (JSON) to this file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
            mapping = (
                parse_mapping(Path(options["mapping"]).read_bytes()) if options["mapping"] else None
            )
        except OSError as exc:
            raise CommandError(f"无法读取文件 cannot read {exc.filename}: {exc.strerror}") from None
        except ZwfwError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        user = self._user(options["user"])
        self.last_shown = 0.0

        def progress(done: int, total: int, report: ImportReport) -> None:
            if total >= 2000 and (done == total or done / total - self.last_shown >= 0.1):
                self.last_shown = done / total
                self.stdout.write(
                    f"  {done}/{total} 行 rows: 新增 {report.created}, 更新 {report.updated}, "
                    f"未变 {report.unchanged}, 拒绝 {report.rejected}"
                )

        try:
            with context.bind(actor=f"user:{user.pk}"):
                report = import_file(
                    data,
                    path.name,
                    user=user,
                    mapping=mapping,
                    dry_run=options["dry_run"],
                    batch_size=options["batch_size"],
                    workers=options["workers"],
                    progress=progress,
                )
        except ZwfwError as exc:
            detail = exc.details.get("missing") or exc.details.get("departments") or ""
            raise CommandError(
                f"{exc.message} [{exc.code}]" + (f" {detail}" if detail else "")
            ) from None
        self._print(report)
        if options["report"]:
            Path(options["report"]).write_text(
                json.dumps(report.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
            )
        if report.rejected:
            raise SystemExit(2)

    def _user(self, username: str | None) -> Any:
        users = get_user_model().objects.filter(is_active=True)
        user = (
            users.filter(username=username).first()
            if username
            else users.filter(is_superuser=True).order_by("pk").first()
        )
        if user is None:
            raise CommandError(
                f"用户“{username}”不存在 no such user"
                if username
                else "没有可用的超级用户，请用 --user 指定导入人 (no superuser; pass --user)"
            )
        return user

    def _print(self, report: ImportReport) -> None:
        where = f"{report.format}" + (f", {report.encoding}" if report.encoding else "")
        where += f", 工作表 {report.sheet}" if report.sheet else ""
        self.stdout.write(f"{report.filename} ({where}), 表头在第{report.header_row}行")
        if report.ignored_columns:
            self.stdout.write("未使用的列 ignored columns: " + "、".join(report.ignored_columns))
        for error in report.errors[:SHOWN_ERRORS]:
            self.stdout.write(
                f"  第{error.row}行 [{error.column}] “{error.value[:40]}”: {error.message} "
                f"({error.code})"
            )
        hidden = report.rejected and len(report.errors) - SHOWN_ERRORS
        if hidden and hidden > 0:
            self.stdout.write(f"  … 另有{hidden}条错误（用 --report 输出全部）")
        if report.departments_created:
            verb = "将新建" if report.dry_run else "新建"
            self.stdout.write(f"{verb}部门: " + "、".join(report.departments_created))
        if report.change_request:
            self.stdout.write(f"变更记录 change request #{report.change_request}")
        self.stdout.write(
            f"{report.summary()}  (created {report.created}, updated {report.updated}, "
            f"unchanged {report.unchanged}, rejected {report.rejected}; {report.seconds:.1f} s)"
        )
