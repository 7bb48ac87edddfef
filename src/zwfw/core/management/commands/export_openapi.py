"""``zwfw export_openapi FILE``: write the API's OpenAPI document (committed under docs/api)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def openapi_text() -> str:
    from zwfw.api.main import api

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI document of /api/v1/ to FILE (or stdout with -)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="output path, or - for stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        text = openapi_text()
        if options["file"] == "-":
            self.stdout.write(text, ending="")
        else:
            Path(options["file"]).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {options['file']}")
