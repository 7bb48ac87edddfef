"""``zwfw demo_licence --out DIR``: issue a sample licence and write licence.pdf/.ofd/.json.

Creates what it needs when missing: the node's signing authority, a department with a USCC
(示例市市场监督管理局), the licence type 食品经营许可证 (5 years) and the department's seal.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from zwfw.licences import services
from zwfw.licences.models import HolderKind, LicenceType
from zwfw.organisations.models import Department, Division

DEMO_USCC = "11511600MB0123457B"
DEMO_DEPARTMENT = "示例市市场监督管理局"


def demo_department() -> Department:
    found = Department.objects.filter(uscc=DEMO_USCC).first()
    if found is not None:
        return found
    division = Division.objects.order_by("code").first()
    if division is None:
        division = Division.objects.create(
            code="510000", name="四川省", level=1, full_name="四川省"
        )
    department, _ = Department.objects.get_or_create(
        division=division, name=DEMO_DEPARTMENT, defaults={"level": 3, "uscc": DEMO_USCC}
    )
    return department


class Command(BaseCommand):
    help = "Issue a sample licence and write licence.pdf, licence.ofd and licence.json."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        department = demo_department()
        licence_type = LicenceType.objects.filter(
            name="食品经营许可证", departments=department
        ).first() or services.create_licence_type(
            name="食品经营许可证",
            defining_department=department,
            holder_kind=HolderKind.PERSON,
            validity_years=5,
            actor="demo",
        )
        started = time.perf_counter()
        licence = services.issue_licence(
            licence_type=licence_type,
            holder_kind=HolderKind.PERSON,
            holder_name="李娜",
            holder_id_number="511602199201200023",
            face={
                "holder_name": "李娜",
                "holder_id": "511602199201200023",
                "item_name": "食品经营许可（餐饮服务）",
            },
            issuer=department,
            actor="demo",
        )
        elapsed = time.perf_counter() - started
        (out / "licence.pdf").write_bytes(services.file_bytes(licence, "pdf"))
        if licence.ofd_name:
            (out / "licence.ofd").write_bytes(services.file_bytes(licence, "ofd"))
        else:
            self.stderr.write("没有可嵌入的中文字体，未生成 OFD (install fonts-wqy-zenhei)")
        (out / "licence.json").write_text(
            json.dumps(services.signed_package(licence), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
        self.stdout.write(
            f"{licence.identifier} → {out}/licence.pdf, licence.ofd, licence.json "
            f"(issued in {elapsed * 1000:.0f} ms)"
        )
