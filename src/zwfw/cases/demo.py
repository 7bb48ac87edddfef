"""Demo data of case handling: who handles the journeys' items, J3's process, sample cases.

- The demo clerk 张敏 accepts at the windows of the journeys' departments (公安广安区分局 J1,
  市场监督管理局 J2, 自然资源和规划局 J3, 广安区民政局 J7); 刘洋 reviews there; 何军 decides.
- 住房和城乡建设局 (孙丽) and 生态环境局 (周涛) review J3 in parallel with 自然资源和规划局.
- 建设工程规划许可证核发 runs the parallel-gateway process of ``demo_data/``.
- Two sample cases fill the inboxes: 王强's food-licence application for the company, waiting
  for acceptance (J2), and a building-permit case in parallel review (J3).

Loading twice changes nothing.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from zwfw.organisations import services as organisations
from zwfw.organisations.models import Department, Role

ACTOR = "system:load_demo"
J1_ITEM = "QR00101004-4-511602-11511602511600227D-01"  # 户口迁移（购房迁入）
J2_ITEM = "XK00201000-3-511600-11511600511600040H-01"  # 食品经营许可
J3_ITEM = "XK00351000-3-511600-115116005116000679-01"  # 建设工程规划许可证核发
J7_ITEM = "JF00151000-4-511602-115116025116002358-01"  # 高龄津贴申领

PUBLIC_SECURITY = "广安市公安局广安区分局"
MARKET = "广安市市场监督管理局"
PLANNING = "广安市自然资源和规划局"
HOUSING = "广安市住房和城乡建设局"
ECOLOGY = "广安市生态环境局"
CIVIL_AFFAIRS = "广安区民政局"
LEAD_DEPARTMENTS = (PUBLIC_SECURITY, MARKET, PLANNING, CIVIL_AFFAIRS)

#: (username, full name, [(department, role)])
STAFF = [
    ("clerk", "张敏", [(d, Role.CLERK) for d in LEAD_DEPARTMENTS]),
    ("reviewer", "刘洋", [(d, Role.REVIEWER) for d in LEAD_DEPARTMENTS]),
    ("decider", "何军", [(d, Role.DECIDER) for d in LEAD_DEPARTMENTS]),
    ("reviewer_housing", "孙丽", [(HOUSING, Role.REVIEWER)]),
    ("reviewer_ecology", "周涛", [(ECOLOGY, Role.REVIEWER)]),
]

SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _department(name: str) -> Department | None:
    return Department.objects.filter(name=name).first()


def load_staff_roles() -> int:
    from zwfw.core.demo import DEMO_PASSWORD

    users = get_user_model()
    created = 0
    for username, full_name, grants in STAFF:
        user = users.objects.filter(username=username).first()
        if user is None:
            user = users.objects.create_user(
                username,
                password=DEMO_PASSWORD,
                real_name=full_name,
                kind="staff",
                is_staff=True,
            )
            created += 1
        for department_name, role in grants:
            department = _department(department_name)
            if department is not None:
                organisations.grant_role(user=user, department=department, role=role)
    return created


def load_j3_process() -> bool:
    from zwfw.cases import processes
    from zwfw.catalog.models import Item

    item = Item.objects.filter(implementation_code=J3_ITEM).first()
    if item is None:
        return False
    xml = (
        resources.files("zwfw.cases")
        .joinpath("demo_data/building-planning-permit.bpmn")
        .read_bytes()
    )
    definition = processes.register_process(
        xml,
        key="gaj.building_planning_permit",
        filename="building-planning-permit.bpmn",
        actor=ACTOR,
    )
    processes.bind_item(item, definition, ACTOR)
    return True


def load_sample_cases() -> int:
    """The J2 and J3 sample cases (only into an empty case table)."""
    from zwfw.cases import services
    from zwfw.cases.models import Case
    from zwfw.identity.models import Company, User
    from zwfw.registries.demo import JOURNEY_COMPANY

    if Case.objects.exists():
        return 0
    company = (
        Company.objects.filter(uscc=JOURNEY_COMPANY.uscc)
        .select_related("legal_representative")
        .first()
    )
    agent = User.objects.filter(real_name="王强", kind="person").first()
    if company is None or agent is None:
        return 0
    made = 0
    for user, item_code in ((agent, J2_ITEM), (company.legal_representative, J3_ITEM)):
        case = services.create_draft(user, item_code, acting_uscc=company.uscc)
        _fill_materials(user, case, company.uscc)
        services.submit(user, case, acting_uscc=company.uscc)
        made += 1
    j3 = Case.objects.filter(implementation_code=J3_ITEM).first()
    clerk = User.objects.filter(username="clerk").first()
    if j3 is not None and clerk is not None:
        services.accept(clerk, j3, opinion="材料齐全，予以受理")
    return made


def _fill_materials(user: Any, case: Any, uscc: str) -> None:
    from zwfw.cases import services

    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if not entry.get("required", True):
            continue
        services.add_material_upload(
            user,
            case,
            checklist_index=index,
            name=f"{entry.get('name', '材料')}.pdf",
            data=SAMPLE_PDF + f"% {case.pk}-{index}\n%%EOF\n".encode(),
            acting_uscc=uscc,
        )


@transaction.atomic
def load_demo_cases() -> dict[str, int]:
    from zwfw.cases import processes

    processes.ensure_builtin()
    return {
        "case_staff": load_staff_roles(),
        "case_processes": int(load_j3_process()),
        "sample_cases": load_sample_cases(),
    }
