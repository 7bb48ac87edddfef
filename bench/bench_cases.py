"""Case handling (办件, issue 5): lifecycle throughput, inbox and number lookup at 1,000,000 cases.

Targets (issue 5):
- full lifecycle — submit → accept → parallel review by two departments → decide → closed — at
  ≥ 100 cases/s in one process (one core), on SQLite and on PostgreSQL;
- staff inbox p50 ≤ 20 ms and case-number lookup p50 ≤ 5 ms with 1,000,000 cases stored;
- the workflow state kept per case (the process spec is stored once per process version).

What runs:
(a) ``--lifecycle K`` cases of a parallel item (市场监管局 leads, 自然资源和规划局 joins; the
    built-in ``zwfw.parallel`` process) through the real services: ``create_draft``, one
    upload per required material (a small distinct PDF each, through ``cases/files.py``:
    type check, SM3, virus-scan plugin, fsync'd file; ``--materials reuse`` takes them from
    the material library instead), ``submit``, ``accept`` (受理通知书), the lead and the joint
    review (``act pass``), ``act approve`` (准予许可决定书, closed). Timed per phase with the SQL
    statements and their time (``connection.execute_wrapper``) and the time of
    ``notices.issue_notice`` inside each phase. Notices the services defer (PDF rendered by the
    task worker after commit) are then rendered in this process with ``notices.render_notice``,
    as the worker would, and reported beside: services alone, and services + PDFs on one core.
    Then a cProfile run of the services (``--profile K``).
(b) ``--cases N`` generated cases (``case_generator.py``) and then, over them: the inbox of a
    reviewer of 市场监管局 (``selectors.inbox`` + the API's ``task_out``; first page of 20 and
    later pages by cursor, and ``GET /api/v1/tasks`` through Django's test client),
    ``selectors.inbox_counts``, ``Case.objects.get(number=…)`` and ``GET /api/v1/cases/{number}``
    for the reviewer (staff path: visibility filter, read audit, detail serialisation).
(c) JSON size of ``Case.workflow_state`` after each step of real cases (promised and parallel)
    and the size of each process spec, stored once.

Usage: python bench/bench_cases.py [--db sqlite|postgres] [--cases N] [--lifecycle K]
       [--materials upload|reuse] [--profile K] [--queries N] [--reuse]
(``--db`` defaults to postgres when DATABASE_URL names a PostgreSQL server, as for the other
benchmarks. PostgreSQL: database ``zwfw_bench_cases`` on that server — or on ``BENCH_PG_URL``,
default postgres://postgres@127.0.0.1:5432 — dropped and created again; SQLite:
var/bench/cases.sqlite3. ``--reuse`` keeps the previous run's database and skips the
generation.) A 1,000,000-case run takes ~15 min on SQLite and ~25 min on PostgreSQL on 2 cores
(generation ~6 min of it). Exits 1 when any step failed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import random
import statistics
import sys
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from _setup import REPO, machine

ERRORS: list[str] = []
PHASES = [
    "create_draft",
    "materials",
    "submit",
    "accept",
    "lead_review",
    "joint_review",
    "decide_close",
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _error(what: str, exc: BaseException | None = None) -> None:
    text = f"{what}: {type(exc).__name__}: {exc}" if exc else what
    ERRORS.append(text)
    print(f"ERROR {text}")
    if exc is not None and len(ERRORS) <= 3:
        traceback.print_exception(exc, limit=6, file=sys.stdout)


# --- measurement helpers --------------------------------------------------------------------------


class Meter:
    """Wall time, SQL statements, SQL time and notice time per named phase."""

    def __init__(self) -> None:
        self.wall: Counter[str] = Counter()
        self.queries: Counter[str] = Counter()
        self.sql: Counter[str] = Counter()
        self.notice: Counter[str] = Counter()
        self.render: Counter[str] = Counter()
        self.licence: Counter[str] = Counter()
        self.current = "glue"

    def sql_wrapper(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            self.sql[self.current] += time.perf_counter() - started
            self.queries[self.current] += 1

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        previous, self.current = self.current, name
        started = time.perf_counter()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - started
            self.current = previous


@contextlib.contextmanager
def notice_timing(meter: Meter, *, stub: bool = False) -> Iterator[None]:
    """Time ``notices.issue_notice`` and ``render_notice_pdf`` (or replace rendering by a stub)."""
    from case_generator import materials_pdf
    from zwfw.cases import notices

    issue, render = notices.issue_notice, notices.render_notice_pdf

    def timed_issue(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return issue(*args, **kwargs)
        finally:
            meter.notice[meter.current] += time.perf_counter() - started

    def timed_render(kind: str, facts: Any) -> bytes:
        started = time.perf_counter()
        try:
            if stub:
                return materials_pdf(str(facts.get("number")))
            return render(kind, facts)
        finally:
            meter.render[meter.current] += time.perf_counter() - started

    notices.issue_notice, notices.render_notice_pdf = timed_issue, timed_render
    # 出证办结: when the licences app issues the licence at close, time it too.
    try:
        from zwfw.licences import services as licences
    except ImportError:
        licences = None  # type: ignore[assignment]
    issue_licence = getattr(licences, "issue_for_case", None)
    if issue_licence is not None:

        def timed_licence(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return issue_licence(*args, **kwargs)
            finally:
                meter.licence[meter.current] += time.perf_counter() - started

        licences.issue_for_case = timed_licence
    try:
        yield
    finally:
        notices.issue_notice, notices.render_notice_pdf = issue, render
        if issue_licence is not None:
            licences.issue_for_case = issue_licence


# --- (a) lifecycle --------------------------------------------------------------------------------


class Lifecycle:
    def __init__(self, world: Any, materials: str) -> None:
        from case_generator import JOINT, LEAD

        self.world = world
        self.parallel = world.item(LEAD, parallel=True)
        self.promised = world.item(LEAD, parallel=False)
        self.joint_id = world.departments[JOINT].pk
        self.materials = materials
        self.library: dict[int, list[int]] = {}
        self.counter = 0

    def applicant(self, n: int) -> Any:
        return self.world.applicants[n % 200]

    def _library(self, applicant: Any, info: Any) -> list[int]:
        """The applicant's material library (one earlier upload per material), made once."""
        from case_generator import materials_pdf
        from zwfw.cases import files

        if applicant.pk not in self.library:
            ids = []
            for index, entry in enumerate(info.version.content.get("materials", [])):
                stored = files.store_upload(
                    owner=applicant,
                    name=f"材料{index}.pdf",
                    data=materials_pdf(f"library-{applicant.pk}-{index}"),
                    material_name=entry.get("name", ""),
                )
                ids.append(stored.pk)
            self.library[applicant.pk] = ids
        return self.library[applicant.pk]

    def run(
        self,
        n: int,
        meter: Meter,
        info: Any = None,
        sizes: dict[str, list[int]] | None = None,
    ) -> Any:
        """One case, draft to closed; ``sizes`` collects the state's JSON size per step."""
        from case_generator import materials_pdf
        from zwfw.cases import services
        from zwfw.cases.models import Case, CaseStatus, CaseTask

        info = info or self.parallel
        actors = self.world.actors
        applicant = self.applicant(n)
        self.counter += 1
        tag = f"{os.getpid()}-{self.counter}"

        def size(step: str, case: Any) -> None:
            if sizes is not None:
                state = Case.objects.values_list("workflow_state", flat=True).get(pk=case.pk)
                sizes[step].append(_json_bytes(state))

        with meter.phase("create_draft"):
            case = services.create_draft(applicant, info.item.implementation_code)
        if self.materials == "reuse":
            library = self._library(applicant, info)
        with meter.phase("materials"):
            for index, entry in enumerate(info.version.content.get("materials", [])):
                if not entry.get("required", True):
                    continue
                if self.materials == "reuse":
                    services.reuse_material(
                        applicant, case, checklist_index=index, stored_file_id=library[index]
                    )
                else:
                    services.add_material_upload(
                        applicant,
                        case,
                        checklist_index=index,
                        name=f"材料{index}.pdf",
                        data=materials_pdf(f"{tag}-{index}"),
                    )
        with meter.phase("submit"):
            case = services.submit(applicant, case).case
        size("submitted", case)
        with meter.phase("accept"):
            case = services.accept(actors["clerk"], case, opinion="材料齐全，予以受理")
        size("accepted", case)
        reviews = list(case.tasks.filter(status=CaseTask.Status.OPEN, kind="review"))
        lead = [t for t in reviews if t.department_id == info.department.pk]
        joint = [t for t in reviews if t.department_id != info.department.pk]
        checklist = [{"index": 0, "ok": True}, {"index": 2, "ok": True, "note": "已核"}]
        with meter.phase("lead_review"):
            services.act(
                actors["reviewer"], lead[0], "pass", opinion="符合条件", checklist=checklist
            )
        if joint:
            size("lead_reviewed", case)
            with meter.phase("joint_review"):
                services.act(actors["joint"], joint[0], "pass", opinion="同意")
        size("reviewed", case)
        decide = case.tasks.get(status=CaseTask.Status.OPEN, kind="decide")
        with meter.phase("decide_close"):
            case = services.act(actors["decider"], decide, "approve", opinion="准予许可")
        size("closed", case)
        if case.status != CaseStatus.CLOSED:
            raise RuntimeError(f"case {case.number} ended {case.status}, not closed")
        return case


def run_lifecycles(
    life: Lifecycle, count: int, *, stub_notices: bool = False, label: str = ""
) -> dict[str, Any]:
    from django.db import connection

    from zwfw.cases import notices
    from zwfw.cases.models import Notice
    from zwfw.core import context

    meter = Meter()
    failures = 0
    ids = []
    with context.bind(actor="system:bench"), notice_timing(meter, stub=stub_notices):
        for n in range(5):  # warm-up: caches, connections, the font, the spec cache
            life.run(n, Meter())
        for counter in (meter.notice, meter.render, meter.licence):
            counter.clear()  # the warm-up's notices and licences are not the measured ones
        with connection.execute_wrapper(meter.sql_wrapper):
            started, cpu = time.perf_counter(), time.process_time()
            for n in range(count):
                try:
                    ids.append(life.run(n, meter).pk)
                except Exception as exc:
                    failures += 1
                    if failures <= 3:
                        _error(f"lifecycle {label} case {n}", exc)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        # Notices the services deferred (PDF rendered by the task worker after commit): render
        # them here, in this process, as the worker would (notices.render_notice).
        deferred = list(
            Notice.objects.filter(case_id__in=ids, file__isnull=True).values_list("pk", flat=True)
        )
        render_started, render_cpu = time.perf_counter(), time.process_time()
        with meter.phase("deferred_render"):
            for notice_id in deferred:
                try:
                    notices.render_notice(notice_id)
                except Exception as exc:
                    _error(f"render_notice({notice_id})", exc)
                    break
        render_wall = time.perf_counter() - render_started
        render_cpu = time.process_time() - render_cpu
    if failures:
        _error(f"lifecycle {label}: {failures} of {count} cases failed")
    return {
        "meter": meter,
        "wall": wall,
        "cpu": cpu,
        "count": count,
        "failures": failures,
        "deferred": len(deferred),
        "render_wall": render_wall,
        "render_cpu": render_cpu,
        "notices": Notice.objects.filter(case_id__in=ids).count(),
    }


def print_lifecycle(result: dict[str, Any], title: str) -> None:
    meter, count, wall = result["meter"], result["count"], result["wall"]
    ok = count - result["failures"]
    print(
        f"{title}: {ok:,} cases in {wall:.1f} s = {ok / wall:,.1f} cases/s "
        f"({wall / count * 1000:.1f} ms per case; client CPU {result['cpu'] / count * 1000:.1f} ms "
        f"per case = {count / result['cpu']:,.1f} cases per CPU-second; load average "
        f"{os.getloadavg()[0]:.1f})"
    )
    total_q = sum(meter.queries.values())
    total_sql = sum(meter.sql.values())
    print(
        f"  {'phase':<14}{'ms/case':>9}{'SQL stmts':>11}{'SQL ms':>9}{'notice ms':>11}"
        f"{'PDF render ms':>15}{'licence ms':>12}"
    )
    for name in [*PHASES, "glue", "deferred_render"]:
        if name == "glue":
            wall_ms = (
                (wall - sum(meter.wall.values()) + meter.wall["deferred_render"]) * 1000 / count
            )
        else:
            wall_ms = meter.wall[name] * 1000 / count
        print(
            f"  {name:<14}{wall_ms:9.2f}{meter.queries[name] / count:11.1f}"
            f"{meter.sql[name] * 1000 / count:9.2f}{meter.notice[name] * 1000 / count:11.2f}"
            f"{meter.render[name] * 1000 / count:15.2f}{meter.licence[name] * 1000 / count:12.2f}"
        )
    notice = sum(meter.notice.values()) - meter.notice["deferred_render"]
    inline = sum(meter.render.values()) - meter.render["deferred_render"]
    print(
        f"  whole case in the services: {total_q / count:.0f} SQL statements, SQL "
        f"{total_sql / count * 1000:.1f} ms; issue_notice {notice / count * 1000:.1f} ms, of "
        f"which PDF rendered inline {inline / count * 1000:.1f} ms"
    )
    licence = sum(meter.licence.values())
    if licence:
        print(
            f"  licence issued at close (出证办结, zwfw.licences): {licence / count * 1000:.1f} ms "
            f"per case = {licence / wall:.0%} of the time; without it {ok / (wall - licence):,.1f} "
            "cases/s"
        )
    if result["deferred"]:
        render_wall = result["render_wall"]
        both = wall + render_wall
        print(
            f"  + {result['deferred']} deferred notices ({result['deferred'] / count:.0f} per "
            f"case) rendered as the worker does (notices.render_notice): "
            f"{render_wall / count * 1000:.1f} ms per case (CPU "
            f"{result['render_cpu'] / count * 1000:.1f} ms; PDF "
            f"{meter.render['deferred_render'] / count * 1000:.1f} ms) → services + PDFs on one "
            f"core: {ok / both:,.1f} cases/s ({render_wall / both:.0%} of it the PDFs)"
        )


def profile_lifecycles(life: Lifecycle, count: int) -> None:
    from zwfw.core import context

    profiler = cProfile.Profile()
    with context.bind(actor="system:bench"):
        life.run(0, Meter())
        profiler.enable()
        for n in range(count):
            life.run(n, Meter())
        profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(
        f"cProfile over {count} lifecycles (profiled: {total / count * 1000:.0f} ms per case; "
        "the profiler roughly doubles Python-heavy code):"
    )
    entries = stats.stats  # type: ignore[attr-defined]

    def name(func: tuple[str, int, str]) -> str:
        path, line, fn = func
        short = path.replace(str(REPO / "src") + "/", "").replace(
            str(REPO / ".venv/lib/python3.11/site-packages") + "/", ""
        )
        return f"{short}:{line}({fn})" if line else fn

    by_cum = sorted(entries.items(), key=lambda kv: kv[1][3], reverse=True)
    print("  by cumulative time (ms per case, calls per case) — platform code:")
    shown = 0
    for func, (_cc, nc, _tt, ct, _callers) in by_cum:
        if "zwfw/" not in func[0] or "bench" in func[0]:
            continue
        print(f"    {ct / count * 1000:8.2f} ms  {nc / count:7.1f}x  {name(func)}")
        shown += 1
        if shown >= 30:
            break
    print("  by own time (ms per case, calls per case):")
    for func, (_cc, nc, tt, _ct, _callers) in sorted(
        entries.items(), key=lambda kv: kv[1][2], reverse=True
    )[:25]:
        print(f"    {tt / count * 1000:8.2f} ms  {nc / count:7.1f}x  {name(func)}")


def _json_bytes(value: Any) -> int:
    """Bytes of a JSON value as stored: text as it is, a decoded JSONField value re-encoded."""
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode())
    return len(json.dumps(value).encode())


# --- (c) workflow state size ----------------------------------------------------------------------


def state_sizes(life: Lifecycle, count: int) -> None:
    from django.db import connection

    from zwfw.cases.models import ProcessDefinition
    from zwfw.core import context

    for label, info in (("promised", life.promised), ("parallel", life.parallel)):
        sizes: dict[str, list[int]] = defaultdict(list)
        with context.bind(actor="system:bench"):
            for n in range(count):
                try:
                    life.run(n, Meter(), info=info, sizes=sizes)
                except Exception as exc:
                    _error(f"state size run ({label})", exc)
                    break
        steps = ", ".join(
            f"{step} {min(v):,}/{int(statistics.median(v)):,}/{max(v):,}"
            for step, v in sizes.items()
            if v and max(v)
        )
        print(
            f"workflow_state JSON bytes, {label} process ({count} cases; min/median/max after "
            f"each step): {steps}; closed cases keep theirs too"
        )
    for definition in ProcessDefinition.objects.filter(key__in=["zwfw.promised", "zwfw.parallel"]):
        spec = _json_bytes(definition.spec)
        meta = _json_bytes(definition.task_meta)
        stored = ""
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT pg_column_size(spec) FROM cases_processdefinition WHERE id = %s",
                    [definition.pk],
                )
                stored = f", {cur.fetchone()[0]:,} B on disk (TOAST-compressed)"
        print(
            f"process spec {definition.key} v{definition.version}: {spec:,} B JSON once per "
            f"version{stored} (+ task_meta {meta:,} B, BPMN file {len(definition.bpmn_xml):,} B)"
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*), avg(pg_column_size(workflow_state)), "
                "max(pg_column_size(workflow_state)) FROM cases_case "
                "WHERE workflow_state IS NOT NULL"
            )
            n, avg, top = cur.fetchone()
        print(f"  on disk (TOAST-compressed): {n:,} states, avg {avg:,.0f} B, max {top:,} B")


# --- (b) reads over the generated cases -----------------------------------------------------------


CPU: list[float] = []  # client CPU time of the calls timed last (thread_time)


def _time(fn: Callable[[], Any], runs: int) -> list[float]:
    values = []
    CPU.clear()
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.thread_time()
        fn()
        values.append((time.perf_counter() - started) * 1000)
        CPU.append((time.thread_time() - cpu) * 1000)
    return values


def _line(label: str, values: list[float], target: str = "") -> str:
    text = (
        f"{label}: p50 {_percentile(values, 0.5):.2f} ms, p95 {_percentile(values, 0.95):.2f} ms, "
        f"max {max(values):.1f} ms (n={len(values)}; client CPU p50 "
        f"{_percentile(CPU, 0.5):.2f} ms; load {os.getloadavg()[0]:.1f})"
    )
    print(text + (f"  [target {target}]" if target else ""))
    return text


def reads(world: Any, queries: int) -> dict[str, float]:  # noqa: PLR0912, PLR0915 - step by step
    from django.db import connection
    from django.test import Client

    from case_generator import LEAD
    from zwfw.cases import api, selectors
    from zwfw.cases.models import Case, CaseTask
    from zwfw.core.pagination import encode_cursor

    rng = random.Random(5)
    reviewer = world.actors["reviewer"]
    market = world.departments[LEAD]
    figures: dict[str, float] = {}
    cases = Case.objects.count()
    open_tasks = CaseTask.objects.filter(status="open").count()
    inbox_ids = list(
        selectors._inbox_base(reviewer, "all").order_by("-pk").values_list("pk", flat=True)
    )
    mine = selectors._inbox_base(reviewer, "mine").count()
    print(
        f"data: {cases:,} cases, {CaseTask.objects.count():,} tasks ({open_tasks:,} open); the "
        f"reviewer's inbox (市场监管局, role reviewer): {len(inbox_ids):,} tasks ({mine:,} claimed "
        "by them, the rest unclaimed in the department queue)"
    )

    def first_page() -> Any:
        page = selectors.inbox(reviewer, limit=20)
        return [api.task_out(t) for t in page.items], page.next_cursor

    items, _cursor = first_page()
    if len(items) != 20:
        _error(f"inbox first page has {len(items)} rows")
    _time(first_page, 20)
    values = _time(first_page, queries)
    _line("inbox first page (selectors.inbox + task_out, 20 rows)", values, "p50 ≤ 20 ms")
    figures["inbox_p50"] = _percentile(values, 0.5)

    cursors = iter([encode_cursor([rng.choice(inbox_ids)]) for _ in range(queries)])

    def later_page() -> Any:
        page = selectors.inbox(reviewer, cursor=next(cursors), limit=20)
        return [api.task_out(t) for t in page.items]

    later = _time(later_page, queries)
    _line("inbox later page (random cursor over the whole inbox)", later, "p50 ≤ 20 ms")
    figures["inbox_later_p50"] = _percentile(later, 0.5)

    counts = _time(lambda: selectors.inbox_counts(reviewer), max(20, queries // 10))
    _line("inbox_counts (mine, queue, per kind, overdue)", counts)
    figures["counts_p50"] = _percentile(counts, 0.5)

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(reviewer)
    try:
        response = client.get("/api/v1/tasks")
        if response.status_code != 200:
            _error(f"GET /api/v1/tasks: {response.status_code} {response.content[:200]!r}")
        else:
            http = _time(lambda: client.get("/api/v1/tasks"), max(50, queries // 5))
            _line("GET /api/v1/tasks (test client: session, middleware, JSON)", http)
            figures["inbox_http_p50"] = _percentile(http, 0.5)
    except Exception as exc:  # reported; the other figures go on
        _error("GET /api/v1/tasks", exc)

    max_id = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 1
    sample_ids = [rng.randrange(1, max_id + 1) for _ in range(queries * 2)]
    numbers = list(
        Case.objects.filter(pk__in=sample_ids, number__isnull=False).values_list(
            "number", flat=True
        )
    )[:queries]
    rng.shuffle(numbers)
    lookups = iter(numbers)
    get_values = _time(lambda: Case.objects.get(number=next(lookups)), len(numbers))
    _line("Case.objects.get(number=…) (random numbers of all cases)", get_values, "p50 ≤ 5 ms")
    figures["lookup_p50"] = _percentile(get_values, 0.5)

    market_numbers = list(
        Case.objects.filter(department=market, pk__in=sample_ids).values_list("number", flat=True)
    )[: max(50, queries // 2)]
    if not market_numbers:
        market_numbers = list(
            Case.objects.filter(department=market).values_list("number", flat=True)[:50]
        )
    try:
        statuses: Counter[int] = Counter()
        api_numbers = iter(market_numbers)

        def get_case() -> None:
            statuses[client.get(f"/api/v1/cases/{next(api_numbers)}").status_code] += 1

        api_values = _time(get_case, len(market_numbers))
        if set(statuses) != {200}:
            _error(f"GET /api/v1/cases/{{number}} answered {dict(statuses)}")
        if api_values:
            _line(
                "GET /api/v1/cases/{number} as the reviewer (市场监管局 cases; visibility filter, "
                "read audit, detail)",
                api_values,
            )
            figures["lookup_api_p50"] = _percentile(api_values, 0.5)
            other = Case.objects.exclude(department=market).filter(pk__in=sample_ids[:200])
            number = other.values_list("number", flat=True).first()
            if number:
                logging.getLogger("django.request").setLevel(logging.ERROR)  # the expected 404
                response = client.get(f"/api/v1/cases/{number}")
                if response.status_code != 404:
                    _error(f"another department's case was visible: {response.status_code}")
    except Exception as exc:  # reported; the other figures go on
        _error("GET /api/v1/cases/{number}", exc)

    print("query plans:")
    department_id, role = selectors._role_pairs(reviewer)[0]
    plans = {
        "inbox, the department queue part": CaseTask.objects.filter(
            status="open", department_id=department_id, role=role, assignee__isnull=True
        ).order_by("-pk")[:21],
        "inbox, the claimed-by-me part": CaseTask.objects.filter(
            status="open", assignee_id=reviewer.pk
        ).order_by("-pk")[:21],
        "number": Case.objects.filter(number=numbers[0]),
        "overdue count": selectors._inbox_base(reviewer, "all").filter(
            case__due_date__lt="2026-01-01", case__closed_at__isnull=True
        ),
    }
    for label, queryset in plans.items():
        try:
            plan = queryset.explain()
        except Exception as exc:
            plan = f"(explain failed: {exc})"
        lines = [line.strip() for line in plan.splitlines() if line.strip()][:12]
        print(f"  {label}:")
        for line in lines:
            print(f"    {line[:150]}")
    connection.close()
    return figures


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    from case_generator import DEFAULT_DB

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, choices=["sqlite", "postgres"])
    parser.add_argument("--cases", type=int, default=1_000_000, help="generated cases")
    parser.add_argument("--lifecycle", type=int, default=500, help="cases through the services")
    parser.add_argument("--materials", default="upload", choices=["upload", "reuse"])
    parser.add_argument("--profile", type=int, default=50, help="lifecycles under cProfile")
    parser.add_argument("--queries", type=int, default=500, help="reads per figure")
    parser.add_argument("--reuse", action="store_true", help="previous run's database, no load")
    args = parser.parse_args()

    var = REPO / "var" / "bench" / f"cases-{args.db}"
    os.environ.setdefault("ZWFW_VAR_DIR", str(var))  # uploads and notices of this run
    if not args.reuse and var.exists():
        import shutil

        shutil.rmtree(var / "files", ignore_errors=True)
    from case_generator import (
        build_world,
        prepare,
        report,
        use_database,
    )

    vendor = use_database(args.db, "cases", fresh=not args.reuse)
    print(
        f"machine: {machine()}; database: {vendor}; load average {os.getloadavg()[0]:.1f}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}; code {_revision()}"
    )
    from zwfw.cases.models import Case

    if args.reuse:
        world = _world_again()
    else:
        started = time.perf_counter()
        world = build_world()
        print(
            f"world: demo departments, {len(world.items)} published items, "
            f"{len(world.applicants):,} applicants, staff ({time.perf_counter() - started:.1f} s)"
        )

    life = Lifecycle(world, args.materials)
    if args.lifecycle:
        print(
            f"(a) lifecycle, parallel item (lead + 1 joint department), materials by "
            f"{args.materials}, {Case.objects.count():,} cases in the database before:"
        )
        full = run_lifecycles(life, args.lifecycle, label="with notices")
        print_lifecycle(full, "services")
        if args.profile:
            profile_lifecycles(life, args.profile)
        print("(c) workflow state size")
        state_sizes(life, 20)

    if args.cases and not args.reuse:
        print(f"(b) generating {args.cases:,} cases (case_generator.py)")
        result = prepare(args.cases, world)
        report(result)
    if args.cases or args.reuse:
        reads(world, args.queries)
        if args.lifecycle:
            again = run_lifecycles(life, 50, label="after load")
            print_lifecycle(again, f"lifecycle again with {Case.objects.count():,} cases stored")
    if ERRORS:
        print(f"{len(ERRORS)} error(s):")
        for error in ERRORS:
            print(f"  - {error}")
        sys.exit(1)


def _revision() -> str:
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no", "src")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes in src/" if dirty else "")


def _world_again() -> Any:
    """The world of a previous run (``--reuse``), read back from the database."""
    from case_generator import EXCLUDED, JOINT, LEAD, PARALLEL, ItemInfo, World
    from zwfw.cases import processes
    from zwfw.catalog.models import Item
    from zwfw.identity.models import User
    from zwfw.organisations.models import Department, StaffMembership

    departments = {d.name: d for d in Department.objects.select_related("division")}
    items = []
    for item in Item.objects.select_related("current_version", "department"):
        joint_names = item.current_version.content.get("joint_departments") or []
        joint = departments[joint_names[0]] if joint_names else None
        items.append(
            ItemInfo(
                item,
                item.current_version,
                item.department,
                joint,
                "zwfw.parallel" if joint else "zwfw.promised",
                1.0,
            )
        )
    actors = {
        name: User.objects.get(username=f"bench_{name}")
        for name in ("clerk", "reviewer", "decider", "joint", "supervisor")
    }
    staff: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for membership in StaffMembership.objects.select_related("user"):
        staff[(membership.department_id, membership.role)].append(membership.user)
    applicants = list(User.objects.filter(kind="person").order_by("pk"))
    _ = (EXCLUDED, JOINT, LEAD, PARALLEL)
    return World(
        departments,
        items,
        applicants,
        dict(staff),
        actors,
        {k: processes.latest(k) for k in ("zwfw.promised", "zwfw.parallel")},
    )


if __name__ == "__main__":
    main()
