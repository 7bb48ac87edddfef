"""Indexes on the case tables that the supervision rules read (owned here, not by cases).

Django's AddIndex cannot add an index to another app's model, so these are plain SQL that both
SQLite and PostgreSQL accept (partial indexes, ``IF NOT EXISTS``), each with its reverse. See
docs/decisions/0019-supervision-rules.md.

- ``sv_case_open_clock_idx``: every column the clock rules (R02, R03, R06) read, for open cases
  only, so a full pass reads this index instead of the wide case rows.
- ``sv_case_final_closed_idx``: final cases by closing time (a full pass re-reads the recent ones).
- ``sv_task_open_due_idx``: open steps by due date (R01).
- ``sv_task_no_reason_idx``: refusals, rejections and send-backs without a reason (R04), a tiny
  set the rule reads without touching the other tasks.
"""

from __future__ import annotations

from django.db import migrations

OPEN = "('submitted', 'correction', 'in_progress', 'special', 'suspended')"

INDEXES = [
    (
        "sv_case_open_clock_idx",
        "cases_case (due_date, paused_since, clock_start, paused_days, limit_days, limit_unit, "
        f"department_id, updated_at, id) WHERE status IN {OPEN}",
    ),
    (
        "sv_case_final_closed_idx",
        "cases_case (closed_at) WHERE status IN ('closed', 'refused', 'withdrawn')",
    ),
    (
        "sv_task_open_due_idx",
        "cases_casetask (due_date, case_id, department_id) WHERE status = 'open'",
    ),
    (
        "sv_task_no_reason_idx",
        "cases_casetask (case_id) WHERE outcome IN ('refuse', 'reject', 'return') "
        "AND TRIM(opinion) = ''",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0002_seed_rules"),
        ("cases", "0004_queue_index"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {definition}",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in INDEXES
    ]
