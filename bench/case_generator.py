"""Bulk generator of realistic cases (办件) for the case benchmarks (``bench_cases.py``).

Everything the cases point at is made through the platform's own code first (:func:`build_world`):
the demo divisions, holiday calendar and 35 departments of 广安市 (``zwfw.core.demo``), published
catalogue items (``catalog.services.publish_content``), the built-in BPMN processes, staff and
applicants. Then :func:`generate` writes N cases with bulk INSERTs — PostgreSQL: ``COPY … FROM
STDIN`` through psycopg's ``cursor.copy``; SQLite: ``executemany`` in large transactions — with
the secondary indexes of the three big tables dropped during the load and re-created afterwards
from their own stored definitions (so they are exactly Django's), and foreign-key checks off for
the load (every key comes from a row that exists).

Distribution (seeded, deterministic for a given ``--cases`` and ``--seed``):

- **Time**: submissions over the last 730 days, working days only at full volume (weekends and
  public holidays 10 %), office hours 08:30–17:30 Beijing time. Inserted oldest first, so ids
  grow with time as in production.
- **Numbers**: ``{division}{YYYYMMDD}{seq:06d}`` — the item's division (511600 city, 511602
  district) and a per division-day sequence; existing ``CaseSequence`` rows are respected and
  brought up to date afterwards, so cases the services make later get the next numbers.
- **Departments and items**: the 31 handling departments of the demo (the people's governments
  and the service centre excluded), weighted: 市场监督管理局 13 %, 公安局 10 %, 人社局 10 %,
  住建局 and 公安广安区分局 6 % each, the other 26 about 2 % each; each department has 3 promised
  (承诺件) items on ``zwfw.promised``, and 6 departments also one parallel item on
  ``zwfw.parallel`` with one joint department, taking 60 % of their cases (≈ 17 % of all cases).
- **Status by age** (open share rises as cases get younger): younger than 30 days 95 % open,
  30–90 days 50 %, 90–365 days 13 %, older 3 % (long suspensions and special procedures):
  ≈ 85 % closed overall. Of the final cases 98 % are closed (96 % approved, 4 % rejected), 1 %
  refused at acceptance and 1 % withdrawn. Open cases: 25 % submitted (waiting for
  acceptance), 8 % in correction, 57 % in progress, 6 % in a special procedure, 4 % suspended.
  Cases in progress wait at a review (60 %) or at the decision (40 %); parallel ones at both
  reviews, at the joint review only, or at the decision.
- **Applicants**: 1,000 persons (valid resident ID numbers, L3) created with one bulk INSERT; the
  encrypted columns (ID number, phone, address, form, delivery address) are each encrypted once
  per distinct value with the field's own ``get_prep_value`` and reused, the ID blind index
  likewise (``BlindIndexField.index_of``).
- **Tasks** (``CaseTask``): every case has the rows its process made — done tasks for the
  steps behind it (3 for a closed promised case, 4 for a parallel one) and open ones where it
  waits, each with the role (clerk / reviewer / decider) and department (the item's, or the
  joint department) the process gives it; 30 % of open tasks are claimed by a staff member of
  that department and role, 1 in 10 of the claimed market-review tasks by the bench reviewer.
  Task ids (``spiff_id``) are the ones in the workflow state, so a generated case can be acted on.
- **Events** (``CaseEvent``): the timeline entries of those steps (submit, accept, review(s),
  decide, close; refusal, withdrawal, correction, special procedure, suspension where they
  happened): about 5 per case.
- **Workflow state**: NULL for final cases (nothing runs any more); open cases carry the state
  of a real case at the same step, made through the services (``capture_states``) for the same
  process (and, for parallel items, the same item), serialised once and reused.
- **Not generated**: materials, notices, audit records and messages of the generated cases
  (the inbox and the number lookup do not read them; the case detail reads the materials by an
  indexed case id and finds none).

Usage: python bench/case_generator.py [--cases N] [--db sqlite|postgres] [--seed S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from _setup import REPO, django_on_fresh_database, machine

_URL = os.environ.get("DATABASE_URL", "")
#: The PostgreSQL server for ``--db postgres``: BENCH_PG_URL, else DATABASE_URL's server.
PG_BASE = os.environ.get("BENCH_PG_URL") or (
    _URL.rsplit("/", 1)[0] if _URL.startswith("postgres") else "postgres://postgres@127.0.0.1:5432"
)
#: ``--db`` default: PostgreSQL when DATABASE_URL names one (as the other benchmarks do).
DEFAULT_DB = "postgres" if _URL.startswith("postgres") else "sqlite"

LEAD = "广安市市场监督管理局"
JOINT = "广安市自然资源和规划局"
EXCLUDED = {"广安市人民政府", "广安市政务服务管理局", "广安市政务服务中心", "广安市广安区人民政府"}
#: Share of cases per department (the rest is spread evenly over the other departments).
WEIGHTS = {
    LEAD: 13.0,
    "广安市公安局": 10.0,
    "广安市人力资源和社会保障局": 10.0,
    "广安市住房和城乡建设局": 6.0,
    "广安市公安局广安区分局": 6.0,
}
#: lead department → joint department of its parallel item.
PARALLEL = {
    LEAD: JOINT,
    "广安市住房和城乡建设局": JOINT,
    "广安市自然资源和规划局": "广安市住房和城乡建设局",
    "广安市生态环境局": "广安市自然资源和规划局",
    "广安市交通运输局": "广安市自然资源和规划局",
    "广安市水利局": "广安市生态环境局",
}
PARALLEL_SHARE = 0.6  # of a department's cases with a parallel item, on that item
ITEM_NAMES = [  # all 行政许可 (item type 01, basic code prefix XK)
    ("XK", "食品经营许可（新办）", "食品经营许可证"),
    ("XK", "公共场所卫生许可（延续）", "卫生许可证"),
    ("XK", "药品经营许可（变更）", "药品经营许可证"),
    ("XK", "道路运输经营许可（新办）", "道路运输经营许可证"),
    ("XK", "取水许可审批", "取水许可证"),
    ("XK", "排污许可核发", "排污许可证"),
]
PARALLEL_NAME = ("XK", "建设工程规划许可（并联审批）", "建设工程规划许可证")
APPLICANTS = 1000
DAYS = 730
TZ_OFFSET = dt.timedelta(hours=8)  # Beijing time (no daylight saving)


# --- databases ------------------------------------------------------------------------------------


def use_database(db: str, name: str, *, fresh: bool = True) -> str:
    """Django on a fresh SQLite file or a fresh PostgreSQL database ``zwfw_bench_<name>``."""
    if db == "postgres":
        if fresh:
            import psycopg

            with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "zwfw_bench_{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "zwfw_bench_{name}"')
        os.environ["DATABASE_URL"] = f"{PG_BASE}/zwfw_bench_{name}"
    elif db == "sqlite":
        os.environ.pop("DATABASE_URL", None)  # a file under var/bench/, whatever the shell says
        if not fresh:
            os.environ["DATABASE_URL"] = f"sqlite:///{REPO / 'var' / 'bench' / f'{name}.sqlite3'}"
    else:
        raise SystemExit(f"--db must be sqlite or postgres, not {db!r}")
    if fresh:
        vendor = django_on_fresh_database(name)
    else:
        import sys

        sys.path.insert(0, str(REPO / "src"))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zwfw.settings.dev")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)  # the previous run's data under today's schema
        vendor = connection.vendor
    from django.conf import settings

    # Production runs without DEBUG: no per-query logging in the cursor wrapper.
    settings.DEBUG = False
    return vendor


# --- the world: departments, staff, applicants, items ---------------------------------------------


@dataclass
class ItemInfo:
    item: Any
    version: Any
    department: Any
    joint: Any | None  # the joint department of a parallel item
    process_key: str
    weight: float


@dataclass
class World:
    departments: dict[str, Any]
    items: list[ItemInfo]
    applicants: list[Any]
    staff: dict[tuple[int, str], list[Any]]
    actors: dict[str, Any]  # the bench's own staff: clerk, reviewer, decider, joint, supervisor
    processes: dict[str, Any] = field(default_factory=dict)

    def item(self, department: str, parallel: bool) -> ItemInfo:
        for info in self.items:
            if info.department.name == department and (info.joint is not None) == parallel:
                return info
        raise LookupError(department)


def resident_id(division: str, birth: dt.date, serial: int) -> str:
    from zwfw.core.validators import resident_id_check_char

    body = f"{division}{birth:%Y%m%d}{serial:03d}"
    return body + resident_id_check_char(body)


def _staff_user(username: str, name: str, department: Any, role: str) -> Any:
    from zwfw.identity.models import User
    from zwfw.organisations import services as organisations

    user = User.objects.create_user(username, password=None, kind="staff", real_name=name)
    organisations.grant_role(user=user, department=department, role=role)
    return user


def _content(  # noqa: PLR0917
    department: Any, code: str, name: str, result: str, serial: int, joint: Any | None
) -> Any:
    from zwfw.catalog.content import validate_content
    from zwfw.catalog.tests.factories import content

    prefix = code
    basic = f"{prefix}{department.pk:04d}{serial:04d}"
    division = department.division_id
    level = "3" if division == "511600" else "4"
    overrides: dict[str, Any] = {
        "name": name,
        "basic_code": basic,
        "implementation_code": f"{basic}-{level}-{division}-{department.uscc}-01",
        "level": level,
        "implementing_body": {"name": department.name, "uscc": department.uscc},
        "handling_unit": f"{department.name}行政审批科",
        "result_name": result,
        "licence_types": [result],
        "targets": ["1", "2", "6"],
        "review_points": ["申请人主体资格", "申请材料齐全、符合法定形式", "符合法定条件"],
        "promised_time_limit": {"value": min(5 + serial * 3, 15), "unit": "1", "note": ""},
    }
    if joint is not None:
        overrides["joint_departments"] = [joint.name]
    return validate_content(content(**overrides))


def build_world(applicants: int = APPLICANTS, seed: int = 1) -> World:  # noqa: PLR0915
    """Demo departments, staff, applicants and published items — through the services."""
    from django.db import transaction

    from zwfw.cases import processes
    from zwfw.catalog.services import publish_content
    from zwfw.core import context
    from zwfw.core.calendar import seed_calendar
    from zwfw.core.demo import load_departments
    from zwfw.identity.models import User
    from zwfw.organisations.divisions import load_divisions
    from zwfw.organisations.models import Department, Role, StaffMembership

    rng = random.Random(seed)
    with context.bind(actor="system:bench"):
        load_divisions()
        seed_calendar()
        load_departments()
        departments = {
            d.name: d for d in Department.objects.select_related("division").order_by("pk")
        }
        handling = [d for name, d in departments.items() if name not in EXCLUDED]
        rest = 100.0 - sum(WEIGHTS.values())
        others = [d for d in handling if d.name not in WEIGHTS]
        items: list[ItemInfo] = []
        serial = 0
        for department in handling:
            weight = WEIGHTS.get(department.name, rest / len(others))
            joint_name = PARALLEL.get(department.name)
            promised_weight = weight * (1 - PARALLEL_SHARE) if joint_name else weight
            for n in range(3):
                code, name, result = ITEM_NAMES[(department.pk + n) % len(ITEM_NAMES)]
                serial += 1
                content = _content(department, code, name, result, n + 1, None)
                with transaction.atomic():
                    item, _version = publish_content(content, department=department, actor="bench")
                item.refresh_from_db()
                items.append(
                    ItemInfo(
                        item,
                        item.current_version,
                        department,
                        None,
                        "zwfw.promised",
                        promised_weight / 3,
                    )
                )
            if joint_name:
                joint = departments[joint_name]
                code, name, result = PARALLEL_NAME
                content = _content(department, code, name, result, 9, joint)
                with transaction.atomic():
                    item, _version = publish_content(content, department=department, actor="bench")
                item.refresh_from_db()
                items.append(
                    ItemInfo(
                        item,
                        item.current_version,
                        department,
                        joint,
                        "zwfw.parallel",
                        weight * PARALLEL_SHARE,
                    )
                )
        processes.ensure_builtin()
        definitions = {key: processes.latest(key) for key in ("zwfw.promised", "zwfw.parallel")}

        # The bench's own actors, through the services (create_user + grant_role).
        market, planning = departments[LEAD], departments[JOINT]
        actors = {
            "clerk": _staff_user("bench_clerk", "张敏", market, Role.CLERK),
            "reviewer": _staff_user("bench_reviewer", "刘洋", market, Role.REVIEWER),
            "decider": _staff_user("bench_decider", "陈局", market, Role.DECIDER),
            "joint": _staff_user("bench_joint", "规划审查员", planning, Role.REVIEWER),
            "supervisor": _staff_user("bench_supervisor", "赵刚", market, Role.SUPERVISOR),
        }
        # Colleagues in every handling department (bulk: they only own claimed tasks).
        colleagues = [
            User(username=f"staff_{d.pk}_{role}_{n}", kind="staff", real_name=f"工作人员{d.pk}-{n}")
            for d in handling
            for role, count in (("clerk", 2), ("reviewer", 3), ("decider", 1))
            for n in range(count)
        ]
        for user in colleagues:
            user.set_unusable_password()
        User.objects.bulk_create(colleagues, batch_size=500)
        colleagues = list(User.objects.filter(username__startswith="staff_"))
        by_name = {d.pk: d for d in handling}
        StaffMembership.objects.bulk_create(
            [
                StaffMembership(
                    user=u,
                    department=by_name[int(u.username.split("_")[1])],
                    role=u.username.split("_")[2],
                )
                for u in colleagues
            ],
            batch_size=500,
        )
        staff: dict[tuple[int, str], list[Any]] = defaultdict(list)
        for user in colleagues:
            _, dep, role, _n = user.username.split("_")
            staff[(int(dep), role)].append(user)
        for name, role in (("clerk", "clerk"), ("reviewer", "reviewer"), ("decider", "decider")):
            staff[(market.pk, role)].append(actors[name])
        staff[(planning.pk, "reviewer")].append(actors["joint"])

        people = []
        taken: set[str] = set()
        for n in range(applicants):
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
            number = resident_id(rng.choice(["511602", "511603", "511621"]), birth, n % 999)
            while number in taken:
                birth += dt.timedelta(days=1)
                number = resident_id(number[:6], birth, n % 999)
            taken.add(number)
            people.append(
                User(
                    username=f"person_{n}",
                    kind="person",
                    real_name=rng.choice("李王张刘陈杨赵黄周吴")
                    + rng.choice(["娜", "伟", "敏", "强", "静", "磊", "洋", "艳"]),
                    id_type="111",
                    id_number=number,
                    phone=f"139{n:08d}",
                    trust_level="L3",
                )
            )
        for person in people:
            person.set_unusable_password()
        User.objects.bulk_create(people, batch_size=500)
        people = list(User.objects.filter(kind="person").order_by("pk"))
    return World(departments, items, people, dict(staff), actors, definitions)


# --- representative workflow states, from real cases ----------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def materials_pdf(tag: str) -> bytes:
    """A small PDF that cases/files.py accepts (header, ``%%EOF``), distinct per ``tag``."""
    return PDF.replace(b"\ntrailer", f"\n% {tag}\ntrailer".encode())


@dataclass
class TaskTemplate:
    spiff_id: uuid.UUID
    bpmn_id: str
    name: str
    kind: str
    role: str
    where: str  # "lead" or "joint"
    status: str
    outcome: str


@dataclass
class Snapshot:
    phase: str
    state_json: str | None
    tasks: list[TaskTemplate]


def _snapshot(case: Any, phase: str, lead_id: int) -> Snapshot:
    case.refresh_from_db()
    tasks = [
        TaskTemplate(
            t.spiff_id,
            t.bpmn_id,
            t.name,
            t.kind,
            t.role,
            "lead" if t.department_id == lead_id else "joint",
            t.status,
            t.outcome,
        )
        for t in case.tasks.exclude(status="cancelled").order_by("id")
    ]
    state = case.workflow_state  # JSON text as the services store it
    if not isinstance(state, str):  # an older model kept it in a JSONField
        state = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
    return Snapshot(phase, state, tasks)


def submit_case(world: World, info: ItemInfo, applicant: Any, tag: str) -> Any:
    """create_draft → upload every required material → submit (through the services)."""
    from zwfw.cases import services

    case = services.create_draft(applicant, info.item.implementation_code)
    for index, entry in enumerate(info.version.content.get("materials", [])):
        if entry.get("required", True):
            services.add_material_upload(
                applicant,
                case,
                checklist_index=index,
                name=f"材料{index}.pdf",
                data=materials_pdf(f"{tag}-{index}"),
            )
    return services.submit(applicant, case).case


def _actor_for(world: World, department_id: int, role: str) -> Any:
    from zwfw.identity.models import User
    from zwfw.organisations import services as organisations
    from zwfw.organisations.models import Department

    username = f"bench_{department_id}_{role}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, password=None, kind="staff", real_name="审查员")
        organisations.grant_role(
            user=user, department=Department.objects.get(pk=department_id), role=role
        )
    return user


def capture_states(world: World) -> dict[tuple[int, str], Snapshot]:
    """(item id, phase) → the state and tasks of a real case at that step.

    Phases: ``submitted`` (acceptance open), ``review`` (promised: the review open; parallel:
    both reviews open), ``joint`` (parallel: lead review done, joint review open), ``decide``,
    ``closed`` (every task done; the state itself is not kept for final cases).
    """
    from zwfw.cases import services
    from zwfw.cases.models import CaseTask
    from zwfw.core import context

    snapshots: dict[tuple[int, str], Snapshot] = {}
    applicant = world.applicants[0]
    for n, info in enumerate(world.items):
        lead = info.department.pk
        with context.bind(actor="system:bench"):
            case = submit_case(world, info, applicant, f"capture-{n}")
            snapshots[(info.item.pk, "submitted")] = _snapshot(case, "submitted", lead)
            services.accept(_actor_for(world, lead, "clerk"), case, opinion="材料齐全")
            snapshots[(info.item.pk, "review")] = _snapshot(case, "review", lead)
            open_reviews = case.tasks.filter(status=CaseTask.Status.OPEN, kind="review")
            ordered = sorted(open_reviews, key=lambda t: t.department_id != lead)  # lead first
            for task in ordered:
                services.act(_actor_for(world, task.department_id, "reviewer"), task, "pass")
                if info.joint is not None and task.department_id == lead:
                    snapshots[(info.item.pk, "joint")] = _snapshot(case, "joint", lead)
            snapshots[(info.item.pk, "decide")] = _snapshot(case, "decide", lead)
            decide = case.tasks.get(status=CaseTask.Status.OPEN, kind="decide")
            services.act(_actor_for(world, lead, "decider"), decide, "approve", opinion="准予")
            snapshots[(info.item.pk, "closed")] = _snapshot(case, "closed", lead)
    return snapshots


# --- bulk generation -----------------------------------------------------------------------------

CASE_COLUMNS = (
    "id", "number", "query_password_hash", "status", "item_id", "item_version_id", "item_name",
    "implementation_code", "case_type", "department_id", "division_code", "process_id",
    "applicant_kind", "applicant_user_id", "company_id", "agent_id", "applicant_name",
    "applicant_id_type", "applicant_id_number", "applicant_id_index", "contact_name",
    "contact_phone", "legal_representative", "postcode", "address", "form_data", "channel",
    "project_code", "created_at", "submitted_at", "accepted_at", "accepted_by",
    "acceptance_notice_no", "decided_at", "decision", "decision_reason", "closed_at", "closed_by",
    "result_description", "refusal_reason", "withdrawn_at", "delivery_method", "delivery_address",
    "limit_days", "limit_unit", "clock_start", "paused_days", "paused_since", "pause_reason",
    "due_date", "workflow_state", "lock_version", "updated_at",
)  # fmt: skip
TASK_COLUMNS = (
    "id", "case_id", "spiff_id", "bpmn_id", "name", "kind", "department_id", "role",
    "assignee_id", "status", "created_at", "due_date", "completed_at", "completed_by_id",
    "outcome", "opinion", "checklist",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "case_id", "kind", "step_name", "action", "actor", "actor_name", "department_id",
    "opinion", "started_at", "ended_at", "task_id", "data",
)  # fmt: skip

OPEN_MIX = [  # (status, share of open cases)
    ("submitted", 0.25),
    ("correction", 0.08),
    ("in_progress", 0.57),
    ("special", 0.06),
    ("suspended", 0.04),
]
FINAL_MIX = [("closed", 0.98), ("refused", 0.01), ("withdrawn", 0.01)]
OPINIONS = ["符合条件", "材料齐全，同意", "经审查符合法定条件", "同意，请决定", "准予许可"]
ADDRESSES = [
    "四川省广安市广安区金安大道一段88号",
    "四川省广安市广安区万盛街道建设路12号3单元",
    "四川省广安市前锋区奎阁街道滨江路7号",
    "四川省广安市广安区北辰街道思源大道166号",
    "四川省广安市岳池县九龙镇东街45号",
    "四川省广安市邻水县鼎屏镇南门路9号",
]
REASONS = ["新开业", "经营范围变更", "证照到期延续", "地址迁移", "", "扩大经营规模"]


def _check_columns(model: Any, columns: Sequence[str]) -> None:
    """The column list must be exactly the model's (a model change must not go unnoticed)."""
    expected = {f.column for f in model._meta.concrete_fields}
    if set(columns) != expected:
        raise SystemExit(
            f"{model.__name__} columns changed: missing {sorted(expected - set(columns))}, "
            f"unknown {sorted(set(columns) - expected)}; update bench/case_generator.py"
        )


def _age_open_share(age_days: int) -> float:
    if age_days < 30:
        return 0.95
    if age_days < 90:
        return 0.50
    if age_days < 365:
        return 0.13
    return 0.03


def _pick(rng: random.Random, mix: Sequence[tuple[str, float]]) -> str:
    x = rng.random()
    for value, share in mix:
        x -= share
        if x < 0:
            return value
    return mix[-1][0]


class _Writer:
    """Bulk writer: COPY on PostgreSQL, executemany on SQLite; big transactions."""

    def __init__(self, vendor: str) -> None:
        from django.db import connection

        self.vendor = vendor
        self.offset = "+00" if vendor == "postgresql" else ""
        self.connection = connection
        connection.ensure_connection()
        self.raw = connection.connection
        self.dropped: dict[str, list[tuple[str, str]]] = {}

    def uuid(self, value: uuid.UUID) -> str:
        return str(value) if self.vendor == "postgresql" else value.hex

    def begin(self, tables: Iterable[str]) -> None:
        cur = self.raw.cursor()
        if self.vendor == "postgresql":
            self.raw.autocommit = False
            cur.execute("SET session_replication_role = replica")  # no FK triggers during load
            cur.execute("SET maintenance_work_mem = '512MB'")
            for table in tables:
                cur.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND "
                    "indexname NOT IN (SELECT conname FROM pg_constraint "
                    "WHERE conrelid = %s::regclass)",
                    [table, table],
                )
                self.dropped[table] = list(cur.fetchall())
                for name, _sql in self.dropped[table]:
                    cur.execute(f'DROP INDEX "{name}"')
            self.raw.commit()
        else:
            cur.execute("PRAGMA foreign_keys = OFF")
            cur.execute("PRAGMA cache_size = -1048576")  # 1 GiB page cache for the load
            # No WAL for the load (pages written once, not to the WAL and again at checkpoint);
            # the settings' WAL / synchronous=NORMAL come back in finish().
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.execute("PRAGMA journal_mode = OFF")
            cur.execute("PRAGMA synchronous = OFF")
            for table in tables:
                cur.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                    "AND sql IS NOT NULL",
                    [table],
                )
                self.dropped[table] = list(cur.fetchall())
                for name, _sql in self.dropped[table]:
                    cur.execute(f'DROP INDEX "{name}"')

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cur = self.raw.cursor()
        names = ", ".join(f'"{c}"' for c in columns)
        if self.vendor == "postgresql":
            with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            cur.execute("BEGIN")
            insert = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 - constants
            cur.executemany(insert, rows)
            cur.execute("COMMIT")

    def commit(self) -> None:
        if self.vendor == "postgresql":
            self.raw.commit()

    def finish(self) -> float:
        """Re-create the dropped indexes, reset id sequences; returns the seconds it took."""
        started = time.perf_counter()
        cur = self.raw.cursor()
        for table, indexes in self.dropped.items():
            for _name, sql in indexes:
                cur.execute(sql)
            if self.vendor == "postgresql":
                # The three table names are constants of this module.
                reset = (
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
                )
                cur.execute(reset)
        if self.vendor == "postgresql":
            cur.execute("SET session_replication_role = DEFAULT")
            self.raw.commit()
            self.raw.autocommit = True
            for table in self.dropped:
                cur.execute(f'ANALYZE "{table}"')
        else:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA cache_size = -2000")
        return time.perf_counter() - started


def _working_day_weights(days: list[dt.date]) -> list[float]:
    from zwfw.core import calendar as cal

    calendar = cal.calendar_snapshot()
    weights = []
    for day in days:
        working = calendar.add_working_days(day - dt.timedelta(days=1), 1) == day
        weights.append(1.0 if working else 0.1)
    return weights


def generate(  # noqa: PLR0912, PLR0915 - one loop writes every row kind, for speed
    world: World,
    snapshots: dict[tuple[int, str], Snapshot],
    count: int,
    *,
    seed: int = 7,
    chunk: int = 20_000,
    progress: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Write ``count`` cases (with tasks and events) in bulk; returns counts and timings."""
    from django.db import connection
    from django.db.models import Max

    from zwfw.cases.models import Case, CaseEvent, CaseSequence, CaseTask

    for model, columns in (
        (Case, CASE_COLUMNS),
        (CaseTask, TASK_COLUMNS),
        (CaseEvent, EVENT_COLUMNS),
    ):
        _check_columns(model, columns)
    rng = random.Random(seed)
    started = time.perf_counter()
    vendor = connection.vendor
    writer = _Writer(vendor)
    as_uuid = writer.uuid

    # Pre-encrypted values: each distinct value once, with the column's own field.
    fields = {f.attname: f for f in Case._meta.concrete_fields}
    enc = {
        name: fields[name].get_prep_value
        for name in (
            "applicant_id_number",
            "contact_phone",
            "address",
            "form_data",
            "delivery_address",
        )
    }
    index_of = fields["applicant_id_index"].index_of
    people = []
    for person in world.applicants:
        people.append(
            (
                person.pk,
                person.real_name,
                enc["applicant_id_number"](person.id_number),
                index_of(person.id_number),
                enc["contact_phone"](person.phone),
            )
        )
    addresses = [enc["address"](a) for a in ADDRESSES]
    delivery = [enc["delivery_address"](a) for a in ADDRESSES[:3]]
    forms = []
    for n, address in enumerate(ADDRESSES):
        form = {
            "applicant_name": "李娜",
            "contact_name": "李娜",
            "contact_phone": "13900000000",
            "email": "",
            "address": address,
            "postcode": "638000",
            "reason": REASONS[n % len(REASONS)],
        }
        forms.append(enc["form_data"](json.dumps(form, ensure_ascii=False)))
    query_hash = "0" * 64  # generated cases have no usable query password
    n_people, n_addresses, n_forms, n_delivery = (
        len(people),
        len(addresses),
        len(forms),
        len(delivery),
    )
    n_opinions = len(OPINIONS)

    # Items, by weight; per item the values every case of it shares.
    infos = world.items
    weights = [i.weight for i in infos]
    item_rows = []
    for info in infos:
        content = info.version.content
        limit = int((content.get("promised_time_limit") or {}).get("value") or 0)
        item_rows.append(
            (
                info,
                info.item.pk,
                info.version.pk,
                info.item.name,
                info.item.implementation_code,
                content.get("case_type", "2"),
                info.department.pk,
                info.department.division_id[:6],
                world.processes[info.process_key].pk,
                limit,
                content.get("result_name") or info.item.name,
                info.department.name,
                info.joint.pk if info.joint is not None else None,
                info.joint.name if info.joint is not None else None,
            )
        )
    promised_item = next(i for i in infos if i.joint is None)

    def snapshot(info: ItemInfo, phase: str) -> Snapshot:
        key = info.item.pk if info.joint is not None else promised_item.item.pk
        return snapshots[(key, phase)]

    staff = world.staff
    bench_reviewer = world.actors["reviewer"].pk
    market_id = world.departments[LEAD].pk

    def staff_member(dep: int, role: str) -> Any:
        members = staff.get((dep, role)) or staff[(dep, "reviewer")]
        return members[rng.randrange(len(members))]

    # Days and the number of cases per day.
    today = dt.date.today()
    days = [today - dt.timedelta(days=d) for d in range(DAYS - 1, -1, -1)]
    day_weights = _working_day_weights(days)
    total_weight = sum(day_weights)
    per_day = [int(count * w / total_weight) for w in day_weights]
    for i in range(count - sum(per_day)):  # remainder onto the latest working days
        per_day[-1 - (i % 20)] += 1

    sequences = {(s.division_code, s.day): s.last for s in CaseSequence.objects.all()}
    next_case = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    next_task = (CaseTask.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    next_event = (CaseEvent.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)  # naive UTC below

    writer.begin(["cases_case", "cases_casetask", "cases_caseevent"])
    cases: list[tuple[Any, ...]] = []
    tasks: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    stats: Counter[str] = Counter()
    write_seconds: Counter[str] = Counter()

    def flush() -> None:
        for table, columns, rows in (
            ("cases_case", CASE_COLUMNS, cases),
            ("cases_casetask", TASK_COLUMNS, tasks),
            ("cases_caseevent", EVENT_COLUMNS, events),
        ):
            t0 = time.perf_counter()
            writer.write(table, columns, rows)
            writer.commit()
            write_seconds[table] += time.perf_counter() - t0
        stats["tasks"] += len(tasks)
        stats["events"] += len(events)
        cases.clear()
        tasks.clear()
        events.clear()

    # Times are whole seconds since local midnight of the first day (Beijing time), formatted
    # through lookup tables: the generator spends its time on rows, not on strftime.
    origin = dt.datetime(days[0].year, days[0].month, days[0].day) - TZ_OFFSET  # naive UTC
    span_days = DAYS + 60  # due dates run up to ~3 weeks ahead
    utc_base = origin.hour * 3600  # origin (local midnight) is 16:00 UTC of the day before
    day_text = [f"{origin + dt.timedelta(days=k):%Y-%m-%d} " for k in range(span_days + 1)]
    sec_text = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    local_day = [(days[0] + dt.timedelta(days=k)).isoformat() for k in range(span_days)]
    offset_text = writer.offset
    now_s = int((now - origin).total_seconds())
    today_k = (now_s + 8 * 3600) // 86_400  # index of today's local date
    randrange, random_ = rng.randrange, rng.random
    day_s = 86_400

    def ts(moment: int | None) -> str | None:
        if moment is None:
            return None
        utc = moment + utc_base
        return day_text[utc // day_s] + sec_text[utc % day_s] + offset_text

    def local(moment: int) -> int:  # index into local_day
        return moment // day_s  # origin is local midnight, so whole days line up

    extras = {
        "closed": ("close", "办结", "1"),
        "refused": ("refuse", "受理", "2"),
        "withdrawn": ("withdraw", "撤回", "9"),
        "correction": ("correction", "补正告知", "2"),
        "special": ("special_start", "特别程序：专家评审", "9"),
        "suspended": ("suspend", "挂起", "9"),
    }
    event_kind = {"accept": "accept", "decide": "decide"}
    done = 0
    for k, (day, n_day) in enumerate(zip(days, per_day, strict=True)):
        age = DAYS - 1 - k
        open_share = _age_open_share(age)
        day_start = k * day_s
        day_number = f"{day:%Y%m%d}"
        chosen = rng.choices(item_rows, weights=weights, k=n_day)
        offsets = sorted(randrange(30_600, 63_000) for _ in range(n_day))  # 08:30–17:30
        for row, offset in zip(chosen, offsets, strict=True):
            (info, item_id, version_id, item_name, code, case_type, dep, division, process_id,
             limit, result_name, _dep_name, joint_id, _joint_name) = row  # fmt: skip
            person_id, person_name, id_enc, id_index, phone_enc = people[randrange(n_people)]
            key = (division, day)
            seq = sequences.get(key, 0) + 1
            sequences[key] = seq
            number = f"{division}{day_number}{seq:06d}"
            case_id = next_case
            next_case += 1
            submitted = min(day_start + offset, now_s - 60)
            created = submitted - randrange(120, 3600)
            is_open = random_() < open_share
            status = _pick(rng, OPEN_MIX) if is_open else _pick(rng, FINAL_MIX)
            stats[status] += 1
            # --- the step the case is at: its tasks, events and workflow state
            if status in ("submitted", "refused") or (status == "correction" and random_() < 0.5):
                phase = "submitted"
            elif status == "closed":
                phase = "closed"
            elif status == "withdrawn":
                phase = "submitted" if random_() < 0.5 else "review"
            elif status == "in_progress" and random_() < 0.4:
                phase = "decide"
            elif joint_id is not None and random_() < 0.4:
                phase = "joint"
            else:
                phase = "review"
            snap = snapshot(info, phase)
            accepted = None
            clock_start = due = None
            if phase != "submitted":
                accepted = min(submitted + randrange(1800, day_s * 2), now_s)
                clock_start = local(accepted)
                due = clock_start + limit * 7 // 5 + 1
            decided = closed = withdrawn_at = paused_since = None
            decision = decision_reason = closed_by = result = refusal = pause_reason = ""
            last_step = accepted or submitted
            if status == "closed":  # decided and closed follow the tasks, below
                if random_() < 0.96:
                    decision, result = "approve", f"准予：{result_name}"
                else:
                    decision, decision_reason = "reject", "经审查不符合法定条件"
                    result = f"不予许可：{decision_reason}"
                closed_by = "陈局"
            elif status == "refused":
                closed = min(submitted + randrange(1800, day_s * 2), now_s)
                refusal = "不属于本机关职权范围"
                closed_by = "张敏"
                last_step = closed
            elif status == "withdrawn":
                withdrawn_at = min(last_step + randrange(600, day_s * 3), now_s)
                last_step = withdrawn_at
            elif status in ("correction", "special", "suspended"):
                paused_since = min(today_k, k + randrange(0, 5))
                pause_reason = status
                if phase == "submitted":
                    due = clock_start = None
            last_step = min(last_step, now_s)
            is_final = status in ("closed", "refused", "withdrawn")
            events.append(
                (next_event, case_id, "submit", "申请", "1", f"user:{person_id}", person_name,
                 None, "", ts(submitted), ts(submitted), None, "{}")
            )  # fmt: skip
            next_event += 1
            # --- tasks (and the events of the finished ones)
            moment = last_task = accepted or submitted
            for template in snap.tasks:
                task_dep = dep if template.where == "lead" else joint_id
                task_status = template.status
                if is_final and task_status == "open":
                    task_status = "cancelled"
                kind = template.kind
                created_at = submitted if kind == "accept" else moment
                assignee = completed_at = completed_by = None
                outcome = opinion = ""
                if task_status == "done":
                    member = staff_member(task_dep, template.role)
                    completed_by = member.pk
                    if random_() < 0.5:
                        assignee = completed_by
                    if kind == "accept":
                        completed_at = accepted
                    elif kind == "decide":
                        completed_at = moment + randrange(600, max(2, limit) * day_s // 2)
                    else:
                        completed_at = moment + randrange(600, day_s * 3)
                    completed_at = min(completed_at, now_s)
                    if kind == "decide":
                        decided = completed_at
                    outcome = (decision or "approve") if kind == "decide" else template.outcome
                    opinion = OPINIONS[task_dep % n_opinions]
                    if kind != "accept":
                        moment = completed_at
                elif task_status == "cancelled":
                    completed_at = last_step
                elif random_() < 0.3:
                    if task_dep == market_id and template.role == "reviewer" and random_() < 0.1:
                        assignee = bench_reviewer
                    else:
                        assignee = staff_member(task_dep, template.role).pk
                task_id = next_task
                next_task += 1
                if kind == "accept":
                    task_due = local(submitted) + 1
                elif clock_start is not None:
                    task_due = local(created_at) + 3
                else:
                    task_due = None
                tasks.append(
                    (task_id, case_id, as_uuid(template.spiff_id), template.bpmn_id, template.name,
                     kind, task_dep, template.role, assignee, task_status, ts(created_at),
                     local_day[task_due] if task_due is not None else None, ts(completed_at),
                     completed_by, outcome, opinion, "[]")
                )  # fmt: skip
                if task_status == "done":
                    events.append(
                        (next_event, case_id, event_kind.get(kind, "review"), template.name,
                         "9" if outcome == "reject" else "1", f"user:{completed_by}", "工作人员",
                         task_dep, opinion, ts(created_at), ts(completed_at), task_id,
                         "{}" if kind == "accept" else f'{{"outcome": "{outcome}"}}')
                    )  # fmt: skip
                    next_event += 1
                    last_task = completed_at
            if status == "closed":
                closed = min(decided + randrange(5, 600), now_s)
                last_step = closed
            cases.append(
                (
                    case_id, number, query_hash, status, item_id, version_id, item_name,
                    code, case_type, dep, division, process_id,
                    "person", person_id, None, None, person_name,
                    "111", id_enc, id_index, person_name,
                    phone_enc, "", "638000", addresses[case_id % n_addresses],
                    forms[case_id % n_forms], "2" if random_() < 0.8 else "1",
                    "", ts(created), ts(submitted), ts(accepted), "张敏" if accepted else "",
                    f"{number}-SL01" if accepted else "", ts(decided), decision,
                    decision_reason, ts(closed), closed_by,
                    result, refusal, ts(withdrawn_at),
                    "electronic" if decided else "",
                    delivery[case_id % n_delivery] if decided and case_id % 5 == 0 else "",
                    limit, "working", local_day[clock_start] if clock_start is not None else None,
                    0, local_day[paused_since] if paused_since is not None else None,
                    pause_reason, local_day[due] if due is not None else None,
                    None if is_final else snap.state_json,
                    3 + len(snap.tasks), ts(last_step),
                )
            )  # fmt: skip
            # --- the step without a task (close, refusal, withdrawal, pause)
            extra = extras.get(status)
            if extra is not None:
                if is_final:
                    when = max(last_step, last_task) if status == "closed" else last_step
                else:
                    when = max(last_task, (paused_since or 0) * day_s + 7200)
                events.append(
                    (next_event, case_id, extra[0], extra[1], extra[2], "user:0", "工作人员",
                     dep, "", ts(when), ts(when), None, "{}")
                )  # fmt: skip
                next_event += 1
            done += 1
            if len(cases) >= chunk:
                flush()
                if progress and done % (chunk * 10) == 0:
                    elapsed = time.perf_counter() - started
                    progress(f"  {done:,} cases in {elapsed:.0f} s")
    flush()
    index_seconds = writer.finish()
    CaseSequence.objects.bulk_create(
        [CaseSequence(division_code=d, day=day, last=last) for (d, day), last in sequences.items()],
        update_conflicts=True,
        unique_fields=["division_code", "day"],
        update_fields=["last"],
        batch_size=2000,
    )
    stats["cases"] = count
    return {
        "stats": dict(stats),
        "seconds": time.perf_counter() - started,
        "write_seconds": sum(write_seconds.values()),
        "write_split": dict(write_seconds),
        "index_seconds": index_seconds,
    }


def database_size() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_database_size(current_database())")
            size = cur.fetchone()[0]
        else:
            size = sum(
                os.path.getsize(f"{connection.settings_dict['NAME']}{s}")
                for s in ("", "-wal")
                if os.path.exists(f"{connection.settings_dict['NAME']}{s}")
            )
    return f"{size / 2**20:,.0f} MiB"


def prepare(count: int, world: World, seed: int = 7) -> dict[str, Any]:
    """Capture the representative states, then generate ``count`` cases."""
    from zwfw.cases.models import Case, CaseEvent, CaseTask

    started = time.perf_counter()
    promised = next(i for i in world.items if i.joint is None and i.department.name == LEAD)
    capture_world = World(
        world.departments,
        [promised, *[i for i in world.items if i.joint is not None]],
        world.applicants,
        world.staff,
        world.actors,
        world.processes,
    )
    snapshots = capture_states(capture_world)
    captured = time.perf_counter() - started
    result = generate(world, snapshots, count, seed=seed)
    result["capture_seconds"] = captured
    result["rows"] = {
        "cases": Case.objects.count(),
        "tasks": CaseTask.objects.count(),
        "open tasks": CaseTask.objects.filter(status="open").count(),
        "events": CaseEvent.objects.count(),
    }
    result["size"] = database_size()
    return result


def report(result: dict[str, Any]) -> None:
    stats = result["stats"]
    rows = result["rows"]
    total = stats["cases"]
    mix = ", ".join(
        f"{s} {stats.get(s, 0) / total:.1%}"
        for s in ("closed", "refused", "withdrawn", "submitted", "correction", "in_progress",
                  "special", "suspended")
    )  # fmt: skip
    print(
        f"generated {total:,} cases in {result['seconds']:.1f} s "
        f"(writing {result['write_seconds']:.1f} s, re-indexing {result['index_seconds']:.1f} s; "
        f"7 real cases for the workflow states {result['capture_seconds']:.1f} s before)"
    )
    print(f"  statuses: {mix}")
    split = ", ".join(f"{t} {s:.1f} s" for t, s in result["write_split"].items())
    print(f"  writing per table: {split}")
    print(
        f"  rows now: {rows['cases']:,} cases, {rows['tasks']:,} tasks "
        f"({rows['open tasks']:,} open), {rows['events']:,} events; database {result['size']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", default=DEFAULT_DB, choices=["sqlite", "postgres"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    vendor = use_database(args.db, "case_generator")
    print(f"machine: {machine()}; database: {vendor}")
    started = time.perf_counter()
    world = build_world()
    print(
        f"world (demo departments, {len(world.items)} items, staff, "
        f"{len(world.applicants):,} applicants) in {time.perf_counter() - started:.1f} s"
    )
    report(prepare(args.cases, world, args.seed))


if __name__ == "__main__":
    main()
