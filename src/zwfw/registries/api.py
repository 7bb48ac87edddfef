"""Base registries API: 核验 / 比对 / 查询 for registered consumers (department systems).

Authentication: ``Authorization: Bearer <API key or OIDC client-credentials access token>``
(see :mod:`zwfw.registries.auth`). 401 without valid credentials; 403 ``registry.scope`` when
the consumer's grants do not cover the mode and every field (nothing is looked up); 400 for a
malformed key or unknown fields. Every answered or denied call is in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from zwfw.core import context
from zwfw.registries import services
from zwfw.registries.auth import ConsumerBearer
from zwfw.registries.schema import REGISTRIES

router = Router(tags=["base registries"], auth=ConsumerBearer())

_REGISTRY_HELP = f"registry code: {', '.join(REGISTRIES)}"


class ClaimsIn(Schema):
    key: str = Field(
        description="the record's key: 公民身份号码 (population) or 统一社会信用代码 (legal_entity)"
    )
    claims: dict[str, str] = Field(
        description='field → claimed value, e.g. {"name": "李娜"}; the key\'s own field is '
        "implied and need not be repeated"
    )


class QueryIn(Schema):
    key: str = Field(description="the record's key (ID number or USCC)")
    fields: list[str] = Field(description="fields to return; each must be granted for 查询")


class VerifyOut(Schema):
    registry: str
    result: bool = Field(description="true only if the record exists and every claim matches")


class CompareOut(Schema):
    registry: str
    result: dict[str, str] = Field(description="per field: match, mismatch or absent")


class QueryOut(Schema):
    registry: str
    record: dict[str, str] = Field(
        description="the requested fields; personal data masked unless the grant is unmasked"
    )


def _as_consumer(request: HttpRequest) -> Any:
    consumer = request.auth  # type: ignore[attr-defined]
    return context.bind(actor=consumer.audit_ref), consumer


@router.post(
    "/{registry}/verify",
    response=VerifyOut,
    summary="核验：所给字段是否全部与基础库一致（是/否）",
    description=_REGISTRY_HELP,
)
def verify(request: HttpRequest, registry: str, payload: ClaimsIn) -> dict[str, Any]:
    bound, consumer = _as_consumer(request)
    with bound:
        result = services.verify(consumer, registry, payload.key, payload.claims)
    return {"registry": registry, "result": result}


@router.post(
    "/{registry}/compare",
    response=CompareOut,
    summary="比对：逐字段比对结果（一致/不一致/无记录）",
    description=_REGISTRY_HELP,
)
def compare(request: HttpRequest, registry: str, payload: ClaimsIn) -> dict[str, Any]:
    bound, consumer = _as_consumer(request)
    with bound:
        result = services.compare(consumer, registry, payload.key, payload.claims)
    return {"registry": registry, "result": result}


@router.post(
    "/{registry}/query",
    response=QueryOut,
    summary="查询：返回已授权的字段",
    description=_REGISTRY_HELP,
)
def query(request: HttpRequest, registry: str, payload: QueryIn) -> dict[str, Any]:
    bound, consumer = _as_consumer(request)
    with bound:
        record = services.query(consumer, registry, payload.key, payload.fields)
    return {"registry": registry, "record": record}
