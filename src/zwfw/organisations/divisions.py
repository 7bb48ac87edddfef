"""Administrative divisions (行政区划, GB/T 2260): the in-memory index and the database loader.

The data ships with the package (``data/divisions/``, see the README there for sources and
licences). Two lists are merged:

* the 2026 民政部 list (``mca2026``) is primary: its codes are current (``is_current``);
* codes found only in the 2023 国家统计局 list (``nbs2023``) are kept for older records
  (birth places on ID cards, historical case data) with ``is_current = False``.

The 2026 list hangs the districts of the four municipalities and the province-administered
county-level cities (济源, 仙桃, 石河子 …) directly under their province. The 2023 list puts them
under statistical placeholders (``110100 市辖区``, ``500200 县``, ``419000 省直辖县级行政区划``
…). The placeholders are kept as non-current level-2 entries so that old records carrying them
still resolve, but they never appear inside a full name: 2023-only ``500105 江北区`` becomes
``重庆市江北区``, not ``重庆市市辖区江北区``.

:func:`division_index` is what validators use: built once from the CSV files, cached, no
database needed. :func:`load_divisions` copies the same records into the ``Division`` table.
"""

from __future__ import annotations

import csv
import functools
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data" / "divisions"
CURRENT_SOURCE = "mca2026"
HISTORICAL_SOURCE = "nbs2023"
SOURCES = (CURRENT_SOURCE, HISTORICAL_SOURCE)

_MCA_FILE = "mca2026_real-china-division_counties.csv"
_NBS_PROVINCES = "nbs2023_modood_provinces.csv"
_NBS_CITIES = "nbs2023_modood_cities.csv"
_NBS_AREAS = "nbs2023_modood_areas.csv"

#: Names of the 2023 statistical groupings that are not divisions of their own.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

PROVINCE, PREFECTURE, COUNTY, TOWNSHIP, VILLAGE = 1, 2, 3, 4, 5


@dataclass(frozen=True, slots=True)
class DivisionRecord:
    """One 6-digit division as the index knows it."""

    code: str
    name: str
    level: int
    parent_code: str | None
    full_name: str
    is_current: bool
    source: str

    @property
    def is_placeholder(self) -> bool:
        """True for the 2023 statistical groupings such as ``110100 市辖区``."""
        return self.level == PREFECTURE and self.name in PLACEHOLDER_NAMES


class DivisionIndex(Mapping[str, DivisionRecord]):
    """Read-only mapping of 6-digit code → :class:`DivisionRecord`."""

    def __init__(self, records: Mapping[str, DivisionRecord]) -> None:
        self._records = dict(records)
        self.province_prefixes = frozenset(
            code[:2] for code, rec in self._records.items() if rec.level == PROVINCE
        )

    def __getitem__(self, code: str) -> DivisionRecord:
        return self._records[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def current(self) -> list[DivisionRecord]:
        """The records of the current (2026) list, in code order."""
        return sorted((r for r in self._records.values() if r.is_current), key=lambda r: r.code)


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _raw_records() -> dict[str, tuple[str, int, str | None, bool, str]]:
    """code → (name, level, parent code, is_current, source), 2026 first, 2023 filling gaps."""
    raw: dict[str, tuple[str, int, str | None, bool, str]] = {}
    for row in _rows(_MCA_FILE):
        parent = row["parent_code"].strip() or None
        raw[row["code"]] = (row["name"].strip(), int(row["level"]), parent, True, CURRENT_SOURCE)
    for row in _rows(_NBS_PROVINCES):
        code = row["code"] + "0000"
        raw.setdefault(code, (row["name"].strip(), PROVINCE, None, False, HISTORICAL_SOURCE))
    for row in _rows(_NBS_CITIES):
        code, province = row["code"] + "00", row["provinceCode"] + "0000"
        raw.setdefault(code, (row["name"].strip(), PREFECTURE, province, False, HISTORICAL_SOURCE))
    for row in _rows(_NBS_AREAS):
        code = row["code"]
        parent = row["cityCode"] + "00"
        if parent == code or parent not in raw:
            # The 2023 list repeats cities without counties (东莞 441900) as areas of
            # themselves; those are in the 2026 list anyway, so this only guards bad rows.
            parent = row["provinceCode"] + "0000"
        raw.setdefault(code, (row["name"].strip(), COUNTY, parent, False, HISTORICAL_SOURCE))
    return raw


def build_index() -> DivisionIndex:
    """Build the index from the packaged CSV files (use :func:`division_index` instead)."""
    raw = _raw_records()
    full_names: dict[str, str] = {}

    def full_name(code: str) -> str:
        if code in full_names:
            return full_names[code]
        name, level, parent, _, _ = raw[code]
        if parent is None or parent not in raw:
            result = name
        else:
            parent_name, parent_level, grandparent, _, _ = raw[parent]
            if (
                level != PREFECTURE
                and parent_level == PREFECTURE
                and parent_name in PLACEHOLDER_NAMES
            ):
                # Skip the placeholder: 重庆市江北区, not 重庆市市辖区江北区.
                result = (full_name(grandparent) if grandparent else "") + name
            else:
                result = full_name(parent) + name
        full_names[code] = result
        return result

    records = {
        code: DivisionRecord(
            code=code,
            name=name,
            level=level,
            parent_code=parent if parent in raw else None,
            full_name=full_name(code),
            is_current=is_current,
            source=source,
        )
        for code, (name, level, parent, is_current, source) in raw.items()
    }
    return DivisionIndex(records)


@functools.cache
def division_index() -> DivisionIndex:
    """The division index, loaded from the packaged CSV files on first use and then cached."""
    return build_index()


def lookup(code: str) -> DivisionRecord | None:
    """The record of a 6-digit code, or ``None`` when neither list knows it."""
    return division_index().get(code)


@dataclass(frozen=True)
class LoadResult:
    """What :func:`load_divisions` did."""

    created: int
    updated: int
    retired: int
    unchanged: int
    seconds: float

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.retired

    @property
    def total(self) -> int:
        """Divisions in the shipped data."""
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "retired": self.retired,
            "unchanged": self.unchanged,
            "total": self.total,
        }


_FIELDS = ("name", "level", "parent", "full_name", "source", "is_current")


def load_divisions() -> LoadResult:
    """Upsert every division of the shipped data into the ``Division`` table.

    Creates missing rows (provinces, then prefectures, then counties, so parents exist first),
    updates rows whose name, level, parent, full name, source or currency differ, and marks rows
    that came from these data sets but are no longer in them as not current (they are never
    deleted: cases and departments may still point at them). Rows from other sources
    (townships added by hand, say) are left alone. Idempotent: a second run changes nothing.
    One query reads the table, bulk statements write it, all in one transaction; when anything
    changed, one audit record (``organisations:division:load``) is appended in that transaction.
    """
    from django.db import transaction

    from zwfw.core import audit
    from zwfw.organisations.models import Division

    started = time.perf_counter()
    index = division_index()
    with transaction.atomic():
        existing = {row[0]: row[1:] for row in Division.objects.values_list("code", *_FIELDS)}
        to_create: list[Division] = []
        to_update: list[Division] = []
        unchanged = 0
        for rec in sorted(index.values(), key=lambda r: (r.level, r.code)):
            wanted = (
                rec.name,
                rec.level,
                rec.parent_code,
                rec.full_name,
                rec.source,
                rec.is_current,
            )
            have = existing.get(rec.code)
            if have == wanted:
                unchanged += 1
                continue
            row = Division(
                code=rec.code,
                name=rec.name,
                level=rec.level,
                parent_id=rec.parent_code,
                full_name=rec.full_name,
                source=rec.source,
                is_current=rec.is_current,
            )
            (to_create if have is None else to_update).append(row)
        retired = [
            code
            for code, (*_, source, is_current) in existing.items()
            if code not in index and source in SOURCES and is_current
        ]
        Division.objects.bulk_create(to_create, batch_size=1000)
        if to_update:
            Division.objects.bulk_update(
                to_update,
                ["name", "level", "parent", "full_name", "source", "is_current"],
                batch_size=500,
            )
        if retired:
            Division.objects.filter(code__in=retired).update(is_current=False)
        result = LoadResult(
            created=len(to_create),
            updated=len(to_update),
            retired=len(retired),
            unchanged=unchanged,
            seconds=time.perf_counter() - started,
        )
        if result.changed:
            audit.record(
                action="organisations:division:load",
                object_type="organisations.Division",
                object_id="*",
                after={**result.as_dict(), "sources": list(SOURCES)},
            )
    return LoadResult(
        created=result.created,
        updated=result.updated,
        retired=result.retired,
        unchanged=result.unchanged,
        seconds=time.perf_counter() - started,
    )
