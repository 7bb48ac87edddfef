"""``zwfw export_items FILE.xlsx|FILE.csv``: published items in the import template."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zwfw.catalog.exporting import export_file, resolve_department, write_template
from zwfw.core.errors import ZwfwError


class Command(BaseCommand):
    help = (
        "Export the published items' current versions to .xlsx or .csv in the import template "
        "(importing the file again changes nothing). --template writes the blank template."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="output file: .xlsx or .csv")
        parser.add_argument("--department", help="department id, USCC or exact name")
        parser.add_argument("--division", help="division code (the division and everything below)")
        parser.add_argument(
            "--template", action="store_true", help="write the blank import template (.xlsx)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = path.suffix.lower().lstrip(".")
        started = time.perf_counter()
        try:
            if options["template"]:
                if fmt != "xlsx":
                    raise CommandError("模板为.xlsx文件 the template is an .xlsx file")
                with path.open("wb") as out:
                    write_template(out)
                self.stdout.write(f"导入模板已写入 template written: {path}")
                return
            if fmt not in {"xlsx", "csv"}:
                raise CommandError("请使用.xlsx或.csv文件名 use a .xlsx or .csv file name")
            department = (
                resolve_department(options["department"]) if options["department"] else None
            )
            with path.open("wb") as out:
                count = export_file(out, fmt, department=department, division=options["division"])
        except ZwfwError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        except OSError as exc:
            raise CommandError(f"无法写入 cannot write {path}: {exc.strerror}") from None
        self.stdout.write(
            f"已导出{count}个事项 exported {count} items to {path} "
            f"({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)"
        )
