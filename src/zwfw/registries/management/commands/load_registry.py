"""``zwfw load_registry {population|legal_entity} FILE.csv [--dry-run] [--strict]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zwfw.core import context
from zwfw.core.errors import ZwfwError
from zwfw.registries.loading import DEFAULT_BATCH_SIZE, load_file
from zwfw.registries.schema import REGISTRIES

#: Rejected-row lines printed to the terminal (the full list goes to --report).
SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Load a base registry from a CSV file (UTF-8, UTF-8 with BOM or GB18030; header row of "
        "field names or Chinese headings). Each row is validated and reported with its row "
        "number and reason; valid rows are created or updated by ID number / USCC (loading the "
        "same file twice changes nothing). Exit status 2 when rows were rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("registry", choices=sorted(REGISTRIES))
        parser.add_argument("file", help="the .csv file")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, write nothing"
        )
        parser.add_argument(
            "--strict", action="store_true", help="write nothing when any row is rejected"
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument("--report", help="write the full report (JSON) to this file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件 cannot read {exc.filename}: {exc.strerror}") from None
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            with context.bind(actor="system:load_registry"):
                report = load_file(
                    options["registry"],
                    data,
                    source=path.name,
                    dry_run=options["dry_run"],
                    strict=options["strict"],
                    batch_size=options["batch_size"],
                )
        except ZwfwError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        for error in report.errors[:SHOWN_ERRORS]:
            self.stdout.write(
                f"第{error.row}行 row {error.row} [{error.column}] {error.message} ({error.code})"
            )
        if len(report.errors) > SHOWN_ERRORS:
            self.stdout.write(f"… {len(report.errors) - SHOWN_ERRORS} more (see --report)")
        if options["report"]:
            Path(options["report"]).write_text(
                json.dumps(
                    {
                        "registry": report.registry,
                        "encoding": report.encoding,
                        "total": report.total,
                        "created": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                        "rejected": report.rejected,
                        "written": report.written,
                        "errors": [e.as_dict() for e in report.errors],
                    },
                    ensure_ascii=False,
                    indent=1,
                ),
                encoding="utf-8",
            )
        self.stdout.write(f"{options['registry']} ({report.encoding}): {report.summary()}")
        if report.rejected:
            raise SystemExit(2)
