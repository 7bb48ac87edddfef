"""Importing: rows validated one by one, idempotent writes, departments, batches, dry runs."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from zwfw.catalog import exporting, importing, search
from zwfw.catalog.content import content_hash, validate_content
from zwfw.catalog.models import (
    BasicItem,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    Item,
    ItemFacet,
    ItemStatus,
    ItemVersion,
)
from zwfw.catalog.services import facet_values, item_columns, publish_content
from zwfw.catalog.tests import import_fixtures as fx
from zwfw.core.demo import government_uscc
from zwfw.core.errors import Conflict, PermissionDenied, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.organisations.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(django_user_model):
    fx.city_bureau()
    return django_user_model.objects.create_superuser("root", password="x" * 12)


def run(data: bytes, filename: str = "list.csv", user=None, **options) -> importing.ImportReport:
    return importing.import_file(data, filename, user=user, **options)


def csv_of(*rows: dict[str, str], encoding: str = "utf-8") -> bytes:
    return fx.csv_bytes(fx.table(rows), encoding)


def snapshot() -> dict[str, int]:
    return {
        "items": Item.objects.count(),
        "versions": ItemVersion.objects.count(),
        "facets": ItemFacet.objects.count(),
        "basic": BasicItem.objects.count(),
        "departments": Department.objects.count(),
        "changes": ChangeRequest.objects.count(),
        "audit": AuditRecord.objects.count(),
    }


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_template_csv_in_each_encoding(admin, encoding: str) -> None:
    report = run(csv_of(fx.row(1), fx.row(2), encoding=encoding), user=admin)
    assert (report.created, report.rejected, report.encoding) == (2, 0, encoding)
    item = Item.objects.get(implementation_code=fx.content(1)["implementation_code"])
    assert item.status == ItemStatus.PUBLISHED
    version = item.current_version
    assert version is not None
    assert version.content_hash == content_hash(validate_content(fx.content(1)))
    assert version.content == validate_content(fx.content(1)).model_dump(mode="json")


def test_template_xlsx(admin) -> None:
    report = run(fx.xlsx_bytes(fx.table([fx.row(1), fx.row(2)])), "list.xlsx", user=admin)
    assert (report.format, report.sheet, report.created) == ("xlsx", "事项", 2)


def test_published_like_publish_content(admin) -> None:
    """The bulk writer leaves exactly what publish_content leaves for the same content."""
    run(csv_of(fx.row(1)), user=admin)
    imported = Item.objects.get()
    content = validate_content(fx.content(1))
    for name, value in item_columns(content).items():
        assert getattr(imported, name) == value, name
    assert imported.division_id == "511600"
    assert imported.basic_item is not None
    assert imported.basic_item.basic_code == content.basic_code
    assert imported.version_count == 1
    assert sorted(imported.facets.values_list("facet", "value")) == sorted(facet_values(content))
    # publish_content agrees that nothing is left to publish.
    _item, version = publish_content(content, department=imported.department)
    assert version is None


# --- idempotency -----------------------------------------------------------------------------


def test_reimport_is_unchanged_and_a_change_makes_one_new_version(admin) -> None:
    data = csv_of(fx.row(1), fx.row(2))
    run(data, user=admin)
    before = snapshot()
    again = run(data, user=admin)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert again.change_request is None  # nothing written, nothing recorded
    assert snapshot() == before
    changed = csv_of(fx.row(1), fx.row(2, promised_time_limit="5", place="二楼5号窗口"))
    report = run(changed, user=admin)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    item = Item.objects.get(implementation_code=fx.content(2)["implementation_code"])
    assert item.version_count == 2
    assert item.promised_days == 5
    assert item.current_version is not None
    assert item.current_version.number == 2
    assert item.current_version.content["place"] == "二楼5号窗口"
    assert list(item.versions.values_list("number", flat=True)) == [1, 2]
    assert item.versions.get(number=1).content["promised_time_limit"]["value"] == 10
    assert Item.objects.count() == 2
    assert item.facets.count() == len(facet_values(validate_content(fx.content(2))))


def test_suspended_item_is_published_again_like_publish_content(admin) -> None:
    data = csv_of(fx.row(1))
    run(data, user=admin)
    Item.objects.update(status=ItemStatus.SUSPENDED)
    report = run(data, user=admin)
    assert report.updated == 1
    assert Item.objects.get().status == ItemStatus.PUBLISHED


# --- bad rows --------------------------------------------------------------------------------


def errors_by_row(report: importing.ImportReport) -> dict[int, list[importing.RowError]]:
    found: dict[int, list[importing.RowError]] = {}
    for error in report.errors:
        found.setdefault(error.row, []).append(error)
    return found


def test_bad_rows_are_reported_with_row_column_value_and_reason(admin) -> None:
    bad_uscc = fx.CITY_USCC[:-1] + ("0" if fx.CITY_USCC[-1] != "0" else "1")
    rows = [
        fx.row(1),
        fx.row(2, department_code=bad_uscc),
        fx.row(3, item_type="内部审批事项"),
        fx.row(4, promised_time_limit="十五天"),
        fx.row(5, name=""),
        fx.row(6, promised_time_limit="30"),  # above the legal 20
        fx.row(7, materials="申请书|原件|纸质"),  # paper without copies
        fx.row(8, division_code="999999"),
        fx.row(9, supports_delivery="可以"),
        fx.row(10, target="外国人"),
        fx.row(1),  # the implementation code of row 2 again
        fx.row(12, implementation_code="含 空格 的编码"),
    ]
    report = run(csv_of(*rows), user=admin)
    assert (report.created, report.rejected) == (1, 11)
    found = errors_by_row(report)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]

    (uscc,) = found[3]
    assert (uscc.column, uscc.field, uscc.code) == (
        "实施主体统一社会信用代码",
        "department_code",
        "uscc.check_digit",
    )
    assert uscc.value == bad_uscc
    assert "校验不通过" in uscc.message
    (kind,) = found[4]
    assert (kind.column, kind.code, kind.value) == (
        "事项类型",
        "catalog_import.item_type_unknown",
        "内部审批事项",
    )
    (days,) = found[5]
    assert (days.column, days.code, days.value) == (
        "承诺办结时限",
        "catalog_import.time_limit",
        "十五天",
    )
    assert "应填写天数（阿拉伯数字，如15）" in days.message
    assert [(e.column, e.message) for e in found[6]] == [("事项名称", "必填项未填写")]
    assert found[7][0].code == "catalog.promised_exceeds_legal"
    assert found[7][0].column == "承诺办结时限"
    assert found[8][0].column == "申请材料"
    assert found[8][0].message == "第1项：纸质材料须填写份数（至少1份）"
    assert (found[9][0].column, found[9][0].code) == ("行政区划代码", "division.province")
    assert (found[10][0].column, found[10][0].code) == (
        "是否支持物流快递",
        "catalog_import.boolean",
    )
    assert (found[11][0].column, found[11][0].code) == ("服务对象", "catalog_import.code_unknown")
    assert found[12][0].code == "catalog_import.duplicate_code"
    assert found[12][0].message == "实施编码与第2行重复"
    assert found[13][0].code == "catalog.implementation_code"
    assert Item.objects.count() == 1


def test_values_too_long_for_the_facet_table_are_rejected(admin) -> None:
    report = run(csv_of(fx.row(1, life_events="开" * 65)), user=admin)
    assert (report.errors[0].field, report.errors[0].code) == (
        "life_events",
        "catalog_import.facet_length",
    )


def test_several_problems_of_one_row_are_all_reported(admin) -> None:
    report = run(csv_of(fx.row(1, item_type="?", level="?", legal_time_limit="很久")), user=admin)
    assert {e.field for e in report.errors} == {"item_type", "level", "legal_time_limit"}


def test_nul_characters_are_refused(admin) -> None:
    with pytest.raises(ValidationError) as binary:
        run(csv_of(fx.row(1, place="二楼\x00窗口")), user=admin)
    assert binary.value.code == "catalog_import.not_text"
    mapping = importing.parse_mapping({"defaults": {"hours": "9:00\x00"}})
    row = fx.row(1, hours="")
    report = run(csv_of(row), user=admin, mapping=mapping)
    assert (report.errors[0].field, report.errors[0].code) == ("hours", "catalog_import.nul")


# --- departments -----------------------------------------------------------------------------


def test_departments_matched_by_uscc_then_by_name_or_created(admin) -> None:
    other = Department.objects.create(name="岳池县民政局", division_id="511621", level=4)
    rows = [
        fx.row(1),  # USCC of 广安市市场监督管理局
        fx.row(2, department_code="", department_name="岳池县民政局", division_code="511621"),
        fx.row(
            3,
            department_name="岳池县市场监督管理局",
            department_code=fx.COUNTY_USCC,
            division_code="511621",
        ),
        fx.row(
            4,
            department_name="岳池县市场监督管理局",
            department_code=fx.COUNTY_USCC,
            division_code="511621",
        ),
    ]
    report = run(csv_of(*rows), user=admin)
    assert report.created == 4
    assert report.departments_created == ["岳池县市场监督管理局"]
    created = Department.objects.get(uscc=fx.COUNTY_USCC)
    assert (created.division_id, created.level) == ("511621", 4)
    assert AuditRecord.objects.filter(
        action="organisations:department:create", object_id=str(created.pk)
    ).exists()
    codes = {i.implementation_code: i.department_id for i in Item.objects.all()}
    assert codes[fx.content(1)["implementation_code"]] == fx.city_bureau().pk
    assert codes[fx.content(2)["implementation_code"]] == other.pk
    assert codes[fx.content(3)["implementation_code"]] == created.pk
    assert Item.objects.get(department=created, name__endswith="3").division_id == "511621"


def test_department_with_another_uscc_or_unknown_division_is_rejected(admin) -> None:
    other_uscc = government_uscc("511600", 77)
    rows = [
        fx.row(1, department_code=other_uscc),  # name matches, USCC differs
        fx.row(2, department_name="新部门", department_code="", division_code="511622"),
    ]
    report = run(csv_of(*rows), user=admin)
    assert report.rejected == 2
    first, second = report.errors
    assert (first.field, first.code) == ("department_code", "catalog_import.department_uscc")
    assert "已登记的统一社会信用代码为" in first.message
    assert (second.field, second.code) == ("division_code", "catalog_import.division_missing")
    assert Department.objects.count() == 1


# --- change request, audit, queries ----------------------------------------------------------


def test_one_change_request_and_one_audit_entry_per_batch(admin) -> None:
    rows = [fx.row(n) for n in range(1, 8)] + [fx.row(8, level="?")]
    report = run(csv_of(*rows), user=admin, batch_size=3)
    assert (report.created, report.rejected, report.batches) == (7, 1, 3)
    change = ChangeRequest.objects.get()
    assert (change.kind, change.status) == (ChangeKind.IMPORT, ChangeStatus.APPROVED)
    assert change.created_by == admin
    assert change.department == fx.city_bureau()
    assert "新增7" in change.reason
    assert "拒绝1" in change.reason
    assert set(ItemVersion.objects.values_list("change_request", flat=True)) == {change.pk}
    assert set(ItemVersion.objects.values_list("created_by", flat=True)) == {f"user:{admin.pk}"}
    batches = AuditRecord.objects.filter(action="catalog:import:batch")
    assert batches.count() == 3
    assert sorted(len(b.after["created"]) for b in batches) == [1, 3, 3]
    assert AuditRecord.objects.filter(action="catalog:import:finish").count() == 1
    assert not AuditRecord.objects.filter(action="catalog:item:publish").exists()


def test_queries_grow_per_batch_not_per_row(admin) -> None:
    run(csv_of(fx.row(1000)), user=admin)  # warm-up: caches, basic item of another number

    def queries(rows: list[dict[str, str]], batch_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            run(csv_of(*rows), user=admin, batch_size=batch_size)
        return len(captured.captured_queries)

    small = queries([fx.row(n) for n in range(1, 4)], 100)
    large = queries([fx.row(n) for n in range(101, 141)], 100)
    assert small == large
    batched = queries([fx.row(n) for n in range(201, 241)], 10)
    per_batch = (batched - large) / 3
    assert 0 < per_batch < 40


def test_dry_run_writes_nothing_but_reports_everything(admin) -> None:
    rows = [
        fx.row(1),
        fx.row(2, department_name="岳池县市场监督管理局", department_code=fx.COUNTY_USCC),
        fx.row(3, item_type="?"),
    ]
    before = snapshot()
    report = run(csv_of(*rows), user=admin, dry_run=True)
    assert (report.created, report.rejected, report.dry_run) == (2, 1, True)
    assert report.departments_created == ["岳池县市场监督管理局"]
    assert "试运行" in report.summary()
    assert snapshot() == before


def test_nothing_half_written_when_a_batch_fails(admin, monkeypatch) -> None:
    calls = {"n": 0}
    original = search.index_items

    def failing(items) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise DatabaseError("disk full")
        original(items)

    monkeypatch.setattr(search, "index_items", failing)
    rows = [fx.row(n) for n in range(1, 6)]
    rows[3]["department_name"] = "岳池县市场监督管理局"  # created in the failing batch
    rows[3]["department_code"] = fx.COUNTY_USCC
    rows[3]["division_code"] = "511621"
    with pytest.raises(Conflict) as error:
        run(csv_of(*rows), user=admin, batch_size=2)
    assert error.value.code == "catalog_import.aborted"
    assert "第4–5行" in error.value.message
    assert error.value.details["report"]["created"] == 2
    # The first batch is whole; nothing of the second stayed (items, versions, department).
    assert Item.objects.count() == 2
    assert ItemVersion.objects.count() == 2
    assert all(i.current_version_id for i in Item.objects.all())
    assert set(ItemFacet.objects.values_list("item_id", flat=True)) == set(
        Item.objects.values_list("pk", flat=True)
    )
    assert not Department.objects.filter(uscc=fx.COUNTY_USCC).exists()
    assert AuditRecord.objects.filter(action="catalog:import:batch").count() == 1
    assert "新增2" in ChangeRequest.objects.get().reason
    # Importing again carries on where it stopped.
    monkeypatch.setattr(search, "index_items", original)
    report = run(csv_of(*rows), user=admin, batch_size=2)
    assert (report.created, report.unchanged) == (3, 2)


def test_a_failing_first_batch_leaves_no_change_request(admin, monkeypatch) -> None:
    def failing(items) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(search, "index_items", failing)
    with pytest.raises(Conflict):
        run(csv_of(fx.row(1)), user=admin)
    assert snapshot()["changes"] == 0
    assert snapshot()["items"] == 0


# --- mapping files ---------------------------------------------------------------------------

GUANGAN_TYPES = {"1": "01", "5": "05", "7": "07", "8": "08", "9": "09", "10": "10", "20": "20"}


def foreign_file(*item_types: str) -> bytes:
    """A county list in its own layout: own headers, own item-type numbers, no division."""
    header = ["序号", "事项名称", "事项编码", "事项类别", "实施部门", "部门代码", "行使层级"]
    header += ["法定时限", "承诺时限", "时限单位", "办件类型", "服务对象", "主题分类", "设定依据"]
    lines = [header]
    for number, item_type in enumerate(item_types, start=1):
        lines.append(
            [
                str(number),
                f"岳池县事项{number}",
                f"51162100{number:04d}",
                item_type,
                "岳池县民政局",
                "",
                "县级",
                "20",
                "10",
                "工作日",
                "承诺件",
                "自然人",
                "社会保障",
                "《社会救助暂行办法》第九条",
            ]
        )
    return fx.xlsx_bytes(lines)


MAPPING = {
    "columns": {
        "事项编码": "implementation_code",
        "事项类别": "item_type",
        "实施部门": "department_name",
        "部门代码": "department_code",
        "法定时限": "legal_time_limit",
        "承诺时限": "promised_time_limit",
        "主题分类": "theme",
        "序号": None,
    },
    "values": {"item_type": GUANGAN_TYPES},
    "defaults": {"division_code": "511621", "body_nature": "法定机关"},
}


def test_foreign_layout_through_a_mapping(admin) -> None:
    Department.objects.create(name="岳池县民政局", division_id="511621", level=4)
    mapping = importing.parse_mapping(json.dumps(MAPPING))
    report = run(foreign_file("5", "20", "7"), "岳池县.xlsx", user=admin, mapping=mapping)
    assert (report.created, report.rejected) == (3, 0), report.errors
    assert report.ignored_columns == ["序号"]
    item = Item.objects.get(implementation_code="511621000001")
    assert (item.item_type, item.person_themes, item.division_id) == ("05", "085", "511621")
    content = item.current_version.content
    assert content["legal_bases"][0]["law_name"] == "社会救助暂行办法"
    assert content["promised_time_limit"] == {"value": 10, "unit": "1", "note": ""}


def test_foreign_codes_without_a_mapping_value_are_rejected_not_guessed(admin) -> None:
    Department.objects.create(name="岳池县民政局", division_id="511621", level=4)
    mapping = dict(MAPPING, values={"item_type": {"5": "05"}})
    report = run(
        foreign_file("5", "1"), "岳池县.xlsx", user=admin, mapping=importing.parse_mapping(mapping)
    )
    assert (report.created, report.rejected) == (1, 1)
    (error,) = report.errors
    assert (error.row, error.column, error.field, error.value) == (3, "事项类别", "item_type", "1")
    assert error.code == "catalog_import.item_type_unknown"


def test_default_values_are_reported_as_such(admin) -> None:
    mapping = importing.parse_mapping(
        {"columns": {"事项编码": "implementation_code"}, "defaults": {"division_code": "99"}}
    )
    header = ["事项名称", "事项编码", "事项类型", "实施主体", "行使层级", "法定办结时限"]
    header += ["承诺办结时限", "办件类型", "服务对象"]
    line = ["甲", "A-1", "公共服务", fx.CITY_BUREAU, "市级", "5", "0", "即办件", "自然人"]
    report = run(fx.csv_bytes([header, line]), user=admin, mapping=mapping)
    (error,) = report.errors
    assert (error.column, error.field, error.code) == (
        "映射文件默认值",
        "division_code",
        "division.length",
    )


# --- export → import -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_changes_nothing(admin, fmt: str) -> None:
    rows = [fx.row(1), fx.row(2, fees="工本费|每证10元||10", charges_fee="是")]
    rows.append(fx.row(3, legal_basis="某条例|第一条|第一款。\n第二款|含竖线"))
    rows.append(
        fx.row(4, department_name="岳池县民政局", department_code="", division_code="511621")
    )
    Department.objects.create(name="岳池县民政局", division_id="511621", level=4)
    assert run(csv_of(*rows), user=admin).created == 4
    out = io.BytesIO()
    assert exporting.export_file(out, fmt) == 4
    before = snapshot()
    report = run(out.getvalue(), f"export.{fmt}", user=admin)
    assert (report.unchanged, report.created, report.updated, report.rejected) == (4, 0, 0, 0)
    assert snapshot() == before


def test_export_filters_by_department_and_division(admin) -> None:
    county = Department.objects.create(name="岳池县民政局", division_id="511621", level=4)
    rows = [fx.row(1), fx.row(2, department_name="岳池县民政局", department_code="")]
    rows[1]["division_code"] = "511621"
    run(csv_of(*rows), user=admin)
    lines = list(exporting.export_rows(department=county))
    assert [line[0] for line in lines] == ["食品经营许可（新办）2"]
    assert len(list(exporting.export_rows(division="511621"))) == 1
    assert len(list(exporting.export_rows(division="511600"))) == 2  # the city and below
    assert exporting.resolve_department(str(county.pk)) == county
    assert exporting.resolve_department(fx.CITY_USCC).name == fx.CITY_BUREAU
    with pytest.raises(ValidationError):
        exporting.resolve_department("没有的部门")


# --- permissions (service level) -------------------------------------------------------------


def test_officers_import_only_for_their_departments(admin, django_user_model) -> None:
    from zwfw.organisations.models import Role
    from zwfw.organisations.services import grant_role

    officer = django_user_model.objects.create_user("officer", password="x" * 12)
    county = Department.objects.create(name="岳池县民政局", division_id="511621", level=4)
    grant_role(user=officer, department=county, role=Role.CATALOG_OFFICER)
    own = fx.row(1, department_name="岳池县民政局", department_code="", division_code="511621")
    assert run(csv_of(own), user=officer).created == 1
    before = snapshot()
    with pytest.raises(PermissionDenied) as other:
        run(csv_of(own, fx.row(2)), user=officer)
    assert other.value.code == "catalog.not_department_officer"
    assert fx.CITY_BUREAU in other.value.message
    new = fx.row(3, department_name="岳池县新部门", department_code="", division_code="511621")
    with pytest.raises(PermissionDenied) as creating:
        run(csv_of(new), user=officer)
    assert creating.value.code == "catalog_import.department_create"
    with pytest.raises(PermissionDenied) as dry:
        run(csv_of(fx.row(2)), user=officer, dry_run=True)
    assert dry.value.code == "catalog.not_department_officer"
    nobody = django_user_model.objects.create_user("nobody", password="x" * 12)
    with pytest.raises(PermissionDenied) as plain:
        run(csv_of(own), user=nobody)
    assert plain.value.code == "catalog_import.not_officer"
    assert snapshot() == before


# --- worker processes ------------------------------------------------------------------------


def test_rows_validated_in_a_worker_process_give_the_same_result(admin) -> None:
    rows = [fx.row(n) for n in range(1, 6)] + [fx.row(6, item_type="?")]
    report = run(csv_of(*rows), user=admin, batch_size=2, workers=1)
    assert (report.created, report.rejected) == (5, 1)
    assert report.errors[0].row == 7
    assert Item.objects.count() == 5


def crash_worker(rows) -> None:
    """Stands for a worker process killed mid-batch (out of memory, say)."""
    import os

    os._exit(3)


def test_a_dying_worker_process_stops_the_import_cleanly(admin, monkeypatch) -> None:
    from zwfw.catalog import import_worker

    # Pickled by reference: the worker process runs this module's crash_worker.
    monkeypatch.setattr(import_worker, "read", crash_worker)
    rows = [fx.row(n) for n in range(1, 5)]
    with pytest.raises(Conflict) as error:
        run(csv_of(*rows), user=admin, batch_size=2, workers=1)
    assert error.value.code == "catalog_import.worker_failed"
    assert Item.objects.count() == 0


# --- command line ----------------------------------------------------------------------------


def test_commands_import_report_and_export(admin, tmp_path, capsys) -> None:
    source = tmp_path / "list.csv"
    source.write_bytes(csv_of(fx.row(1), fx.row(2, item_type="?")))
    report_file = tmp_path / "report.json"
    with pytest.raises(SystemExit) as exit_code:
        call_command("import_items", str(source), "--report", str(report_file))
    assert exit_code.value.code == 2  # rows were rejected
    out = capsys.readouterr().out
    assert "第3行 [事项类型]" in out
    assert "新增1" in out
    assert json.loads(report_file.read_text(encoding="utf-8"))["rejected"] == 1
    exported = tmp_path / "out.xlsx"
    call_command("export_items", str(exported))
    assert "已导出1个事项" in capsys.readouterr().out
    call_command("import_items", str(exported))
    assert "未变1" in capsys.readouterr().out
    template = tmp_path / "template.xlsx"
    call_command("export_items", str(template), "--template")
    assert template.stat().st_size > 1000


def test_command_refuses_unreadable_files(admin, tmp_path) -> None:
    from django.core.management.base import CommandError

    bad = tmp_path / "list.csv"
    bad.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(CommandError, match="未找到表头行"):
        call_command("import_items", str(bad))
    with pytest.raises(CommandError, match="无法读取文件"):
        call_command("import_items", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="用户"):
        call_command("import_items", str(bad), "--user", "ghost")
