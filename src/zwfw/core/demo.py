"""Demo data for `make run`: reference data, departments of 广安市 and demo staff accounts.

Everything here is invented (names, codes) but valid: USCCs carry correct GB 11714 and
GB 32100 check characters. Loading twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from zwfw.core import context
from zwfw.core.validators import org_code_check_char, uscc_check_char
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Department, Role

DEMO_PASSWORD = "Zwfw-demo-2026"  # noqa: S105 — documented demo password, dev settings only

CITY = "511600"
DISTRICT = "511602"

# (name, division, level, org-code serial). Serials are unique across both divisions, because
# the organisation code inside a USCC does not contain the county digits.
DEPARTMENTS: list[tuple[str, str, int, int]] = [
    ("广安市人民政府", CITY, 3, 1),
    ("广安市政务服务管理局", CITY, 3, 2),
    ("广安市政务服务中心", CITY, 3, 3),
    ("广安市市场监督管理局", CITY, 3, 4),
    ("广安市公安局", CITY, 3, 5),
    ("广安市自然资源和规划局", CITY, 3, 6),
    ("广安市住房和城乡建设局", CITY, 3, 7),
    ("广安市生态环境局", CITY, 3, 8),
    ("广安市人力资源和社会保障局", CITY, 3, 9),
    ("广安市民政局", CITY, 3, 10),
    ("广安市卫生健康委员会", CITY, 3, 11),
    ("广安市医疗保障局", CITY, 3, 12),
    ("广安市住房公积金管理中心", CITY, 3, 13),
    ("广安市交通运输局", CITY, 3, 14),
    ("广安市教育局", CITY, 3, 15),
    ("广安市退役军人事务局", CITY, 3, 16),
    ("广安市应急管理局", CITY, 3, 17),
    ("广安市文化广播电视和旅游局", CITY, 3, 18),
    ("广安市水利局", CITY, 3, 19),
    ("广安市司法局", CITY, 3, 20),
    ("广安市农业农村局", CITY, 3, 30),
    ("广安市广安区人民政府", DISTRICT, 4, 21),
    ("广安市公安局广安区分局", DISTRICT, 4, 22),
    ("广安区民政局", DISTRICT, 4, 23),
    ("广安区市场监督管理局", DISTRICT, 4, 24),
    ("广安区人力资源和社会保障局", DISTRICT, 4, 31),
    ("广安区住房和城乡建设局", DISTRICT, 4, 32),
    ("广安区卫生健康局", DISTRICT, 4, 33),
    ("广安区医疗保障局", DISTRICT, 4, 34),
    ("广安区交通运输局", DISTRICT, 4, 35),
    ("广安区教育局", DISTRICT, 4, 36),
    ("广安区退役军人事务局", DISTRICT, 4, 37),
    ("广安区应急管理局", DISTRICT, 4, 38),
    ("广安区司法局", DISTRICT, 4, 39),
    ("广安区农业农村局", DISTRICT, 4, 40),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    department: str
    role: str
    superuser: bool = False


USERS = [
    DemoUser("admin", "平台管理员", "广安市政务服务管理局", Role.NODE_ADMIN, superuser=True),
    DemoUser("clerk", "张敏", "广安市政务服务中心", Role.CLERK),
    DemoUser("reviewer", "刘洋", "广安市市场监督管理局", Role.REVIEWER),
    DemoUser("officer", "陈静", "广安市市场监督管理局", Role.CATALOG_OFFICER),
    DemoUser("catalog_reviewer", "王磊", "广安市政务服务管理局", Role.CATALOG_REVIEWER),
    DemoUser("supervisor", "赵刚", "广安市政务服务管理局", Role.SUPERVISOR),
]


def government_uscc(division: str, serial: int) -> str:
    """A valid USCC of a government body (1 机构编制, 1 机关) in ``division``."""
    org_body = f"{int(division[:4]):04d}{serial:04d}"
    org_code = org_body + org_code_check_char(org_body)
    body = "11" + division + org_code
    return body + uscc_check_char(body)


@transaction.atomic
def load_departments() -> int:
    created = 0
    parents: dict[str, Department] = {}
    for name, division, level, serial in DEPARTMENTS:
        existing = Department.objects.filter(division_id=division, name=name).first()
        if existing is None:
            parent = None
            if name not in {"广安市人民政府", "广安市广安区人民政府"}:
                parent = parents.get(division)
            existing = organisations.create_department(
                name=name,
                division_code=division,
                level=level,
                uscc=government_uscc(division, serial),
                parent=parent,
                phone=f"0826-{2300000 + serial:07d}",
                address="四川省广安市广安区金安大道一段"
                if division == CITY
                else "四川省广安市广安区",
            )
            created += 1
        if name in {"广安市人民政府", "广安市广安区人民政府"}:
            parents[division] = existing
    return created


@transaction.atomic
def load_users() -> int:
    user_model = get_user_model()
    created = 0
    for demo in USERS:
        user = user_model.objects.filter(username=demo.username).first()
        if user is None:
            user = user_model.objects.create_user(
                demo.username,
                password=DEMO_PASSWORD,
                real_name=demo.full_name,
                kind="staff",
                is_staff=True,
                is_superuser=demo.superuser,
            )
            created += 1
        department = Department.objects.get(name=demo.department)
        organisations.grant_role(user=user, department=department, role=demo.role)
    return created


def load_demo() -> dict[str, int]:
    """Load everything the demo needs; returns counts of what was created."""
    from zwfw.cases.demo import load_demo_cases
    from zwfw.catalog.demo import load_demo_catalog
    from zwfw.catalog.synonyms import seed_synonyms
    from zwfw.core.calendar import seed_calendar
    from zwfw.identity.demo import load_demo_accounts
    from zwfw.organisations.divisions import load_divisions
    from zwfw.registries.demo import load_demo_registries
    from zwfw.sso.demo import load_demo_clients

    with context.bind(actor="system:load_demo"):
        divisions = load_divisions()
        calendar_days = seed_calendar()
        departments = load_departments()
        users = load_users()
        synonyms = seed_synonyms()
        catalog_items = load_demo_catalog()
        registry_records = load_demo_registries()
        citizen_accounts = load_demo_accounts()
        oidc_clients = load_demo_clients()
        cases = load_demo_cases()
        later = _load_later_apps()
    return {
        "divisions": divisions.created,
        "calendar_days": calendar_days,
        "departments": departments,
        "users": users,
        "synonyms": synonyms,
        "catalog_items": catalog_items,
        "registry_records": registry_records,
        "citizen_accounts": citizen_accounts,
        "oidc_clients": oidc_clients,
        **cases,
        **later,
    }


# Apps that build on cases add their demo data through a ``demo.load_demo() -> dict[str, int]``
# of their own, called in this order (each may rely on the ones before it).
LATER_DEMO_APPS = ("licences", "workbench", "supervision", "ratings", "indicators")


def _load_later_apps() -> dict[str, int]:
    import importlib

    counts: dict[str, int] = {}
    for app in LATER_DEMO_APPS:
        try:
            module = importlib.import_module(f"zwfw.{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"zwfw.{app}.demo":
                raise
            continue
        counts.update(module.load_demo())
    return counts
