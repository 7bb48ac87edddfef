"""Demo licences (J1, J5): the node's CA and seals, 李娜's 居民户口簿, a revoked licence.

The node's certificate authority is made here rather than on the first issuance, so that a
fresh `make run` has it before anyone applies. 李娜's household register, issued by the police
branch of 广安区, is in her wallet (我的证照) and verifies on the public page; the company's
earlier food licence is revoked, for J5's "revoked, with the date". Loading twice changes
nothing.
"""

from __future__ import annotations

from django.db import transaction

from zwfw.identity.models import Company
from zwfw.licences import services
from zwfw.licences.models import HolderKind, Licence, LicenceType
from zwfw.organisations.models import Department
from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE
from zwfw.signing import services as signing

POLICE = "广安市公安局广安区分局"
MARKET = "广安市市场监督管理局"
HOUSEHOLD_FIELDS = [
    {"name": "holder_name", "label": "户主姓名", "type": "string", "required": True},
    {"name": "holder_id", "label": "公民身份号码", "type": "string", "required": True},
    {"name": "household_type", "label": "户别", "type": "string", "required": True},
    {"name": "address", "label": "住址", "type": "string", "required": True},
]


def _type(department: Department, name: str, holder_kind: str, fields: list | None) -> LicenceType:
    found = LicenceType.objects.filter(name=name, departments=department).first()
    if found is not None:
        return found
    return services.create_licence_type(
        name=name,
        defining_department=department,
        holder_kind=holder_kind,
        face_fields=fields,
        actor="system:load_demo",
    )


def _held(id_number: str, type_name: str) -> bool:
    index = Licence._meta.get_field("holder_id_index").index_of(id_number)
    return Licence.objects.filter(holder_id_index=index, licence_type__name=type_name).exists()


def load_demo() -> dict[str, int]:
    signing.ensure_node_authority(actor="system:load_demo")
    made = 0
    police = Department.objects.filter(name=POLICE).exclude(uscc="").first()
    li_na = JOURNEY_PEOPLE["li_na"]
    if police is not None and not _held(li_na.id_number, "居民户口簿"):
        with transaction.atomic():
            services.issue_licence(
                licence_type=_type(police, "居民户口簿", HolderKind.PERSON, HOUSEHOLD_FIELDS),
                holder_kind=HolderKind.PERSON,
                holder_name=li_na.name,
                holder_id_number=li_na.id_number,
                face={
                    "holder_name": li_na.name,
                    "holder_id": li_na.id_number,
                    "household_type": "家庭户",
                    "address": li_na.address,
                },
                issuer=police,
                actor="system:load_demo",
                defer_files=True,
            )
        made += 1
    market = Department.objects.filter(name=MARKET).exclude(uscc="").first()
    company = Company.objects.filter(uscc=JOURNEY_COMPANY.uscc).first()
    if market is not None and company is not None and not _held(company.uscc, "食品经营许可证"):
        with transaction.atomic():
            licence = services.issue_licence(
                licence_type=_type(market, "食品经营许可证", HolderKind.COMPANY, None),
                holder_kind=HolderKind.COMPANY,
                holder_name=company.name,
                holder_id_number=company.uscc,
                face={"holder_name": company.name, "holder_id": company.uscc},
                issuer=market,
                actor="system:load_demo",
                defer_files=True,
            )
            services.revoke(licence, reason="经营者申请注销（示例）", actor="system:load_demo")
        made += 1
    return {"demo_licences": made}
