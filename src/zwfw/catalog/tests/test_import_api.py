"""The import/export API: template download, imports per role, exports, clear errors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from zwfw.catalog import api_import, spreadsheet
from zwfw.catalog.models import ChangeRequest, Item, ItemVersion
from zwfw.catalog.tests import import_fixtures as fx
from zwfw.organisations.models import Department, Role
from zwfw.organisations.services import grant_role

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/catalog/imports"


def upload(data: bytes, name: str = "list.csv", **fields: str) -> dict:
    return {"file": SimpleUploadedFile(name, data), **fields}


def csv_of(*rows: dict[str, str]) -> bytes:
    return fx.csv_bytes(fx.table(rows), "utf-8-sig")


@pytest.fixture
def staff(django_user_model):
    """Officer of 广安市市场监督管理局, officer of 岳池县民政局, a node admin."""
    city = fx.city_bureau()
    county = Department.objects.create(name="岳池县民政局", division_id="511621", level=4)
    users = {}
    for username, department, role in (
        ("officer", city, Role.CATALOG_OFFICER),
        ("county_officer", county, Role.CATALOG_OFFICER),
        ("admin", city, Role.NODE_ADMIN),
    ):
        user = django_user_model.objects.create_user(username, password="x" * 12, is_staff=True)
        grant_role(user=user, department=department, role=role)
        users[username] = user
    return users


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_template_download_is_public_and_reads_back(client: Client) -> None:
    response = client.get("/api/v1/catalog/import-template")
    assert response.status_code == 200
    assert response["Content-Type"] == api_import.XLSX
    assert "attachment" in response["Content-Disposition"]
    table = spreadsheet.read_table(response.content, "t.xlsx", spreadsheet.header_lookup())
    assert table.headers[:3] == ["事项名称", "基本编码", "实施编码"]


def test_anonymous_import_is_401_and_writes_nothing(client: Client, staff) -> None:
    response = client.post(IMPORTS, upload(csv_of(fx.row(1))))
    assert response.status_code == 401
    assert response.json()["code"] == "auth.required"
    assert Item.objects.count() == 0


def test_officer_of_another_department_is_403_and_writes_nothing(staff) -> None:
    rows = [fx.row(1), fx.row(2)]
    response = client_for(staff["county_officer"]).post(IMPORTS, upload(csv_of(*rows)))
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "catalog.not_department_officer"
    assert body["details"]["departments"][0]["name"] == fx.CITY_BUREAU
    assert (Item.objects.count(), ChangeRequest.objects.count()) == (0, 0)


def test_officer_imports_and_gets_the_report(staff) -> None:
    rows = [fx.row(1), fx.row(2, promised_time_limit="十五天")]
    response = client_for(staff["officer"]).post(IMPORTS, upload(csv_of(*rows)))
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["errors"] == [
        {
            "row": 3,
            "column": "承诺办结时限",
            "field": "promised_time_limit",
            "value": "十五天",
            "code": "catalog_import.time_limit",
            "message": report["errors"][0]["message"],
        }
    ]
    assert report["summary"] == "共2行：新增1，更新0，未变0，拒绝1"
    assert ChangeRequest.objects.get().created_by == staff["officer"]


def test_dry_run_and_mapping_through_the_api(staff) -> None:
    header = ["名称", "编码", "类别", "主体", "层级", "法定", "承诺", "类型", "对象"]
    line = ["甲事项", "A-1", "20", fx.CITY_BUREAU, "市级", "5", "0", "即办件", "自然人"]
    mapping = {
        "columns": {
            "名称": "name",
            "编码": "implementation_code",
            "类别": "item_type",
            "主体": "department_name",
            "层级": "level",
            "法定": "legal_time_limit",
            "承诺": "promised_time_limit",
            "类型": "case_type",
            "对象": "target",
        },
        "defaults": {"division_code": "511600"},
    }
    client = client_for(staff["officer"])
    data = fx.csv_bytes([header, line])
    dry = client.post(IMPORTS, upload(data, mapping=json.dumps(mapping), dry_run="true"))
    assert dry.status_code == 200, dry.content
    assert (dry.json()["created"], dry.json()["dry_run"]) == (1, True)
    assert Item.objects.count() == 0
    real = client.post(IMPORTS, upload(data, mapping=json.dumps(mapping)))
    assert real.json()["created"] == 1
    assert Item.objects.get().item_type == "20"


@pytest.mark.parametrize(
    ("data", "name", "mapping", "code"),
    [
        (b"a,b\n1,2\n", "list.csv", "", "catalog_import.no_header"),
        (b"\x00\x01\x02", "list.xlsx", "", "catalog_import.xlsx"),
        (b"hello", "list.doc", "", "catalog_import.format"),
        (b"name\n", "list.csv", "{broken", "catalog_import.mapping"),
        (fx.csv_bytes([["事项名称", "实施编码"], ["甲", "1"]]), "list.csv", "", None),
    ],
)
def test_bad_uploads_get_400_with_a_code(staff, data, name, mapping, code) -> None:
    response = client_for(staff["officer"]).post(IMPORTS, upload(data, name, mapping=mapping))
    assert response.status_code == 400
    assert response.json()["code"] == (code or "catalog_import.missing_columns")
    assert Item.objects.count() == 0


def test_too_many_rows_for_the_api(staff, monkeypatch) -> None:
    monkeypatch.setattr(api_import, "API_MAX_ROWS", 1)
    response = client_for(staff["admin"]).post(IMPORTS, upload(csv_of(fx.row(1), fx.row(2))))
    assert response.status_code == 400
    assert response.json()["code"] == "catalog_import.too_many_rows"


def test_missing_file_is_a_clear_error(staff) -> None:
    response = client_for(staff["officer"]).post(IMPORTS, {"dry_run": "true"})
    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid"


def test_export_needs_staff_and_reimports_unchanged(staff, django_user_model) -> None:
    admin = client_for(staff["admin"])
    assert admin.post(IMPORTS, upload(csv_of(fx.row(1), fx.row(2)))).json()["created"] == 2
    assert Client().get("/api/v1/catalog/export").status_code == 401
    citizen = django_user_model.objects.create_user("citizen", password="x" * 12)
    denied = client_for(citizen).get("/api/v1/catalog/export")
    assert denied.status_code == 403
    assert denied.json()["code"] == "catalog_export.staff_only"
    response = admin.get("/api/v1/catalog/export", {"department": fx.CITY_USCC})
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    versions = ItemVersion.objects.count()
    again = admin.post(IMPORTS, upload(data, "export.xlsx")).json()
    assert (again["unchanged"], again["created"], again["updated"]) == (2, 0, 0)
    assert ItemVersion.objects.count() == versions
    as_csv = admin.get("/api/v1/catalog/export", {"format": "csv", "division": "511600"})
    exported = b"".join(as_csv.streaming_content)
    assert exported.startswith(b"\xef\xbb\xbf")
    assert len(spreadsheet.read_table(exported, "x.csv", spreadsheet.header_lookup()).rows) == 2
    bad = admin.get("/api/v1/catalog/export", {"department": "没有的部门"})
    assert (bad.status_code, bad.json()["code"]) == (400, "catalog_export.department")
    odd = admin.get("/api/v1/catalog/export", {"division": "51'--"})
    assert (odd.status_code, odd.json()["code"]) == (400, "catalog_export.division")


def test_report_json_is_utf8(staff) -> None:
    response = client_for(staff["officer"]).post(IMPORTS, upload(csv_of(fx.row(1))))
    assert "新增1".encode() in response.content
    assert io.BytesIO(response.content).read(1) == b"{"
