"""Base registries API: 核验 / 比对 / 查询 for registered consumers (department systems).

Authentication: ``Authorization: Bearer <API key or OIDC client-credentials access token>``
(see :mod:`zwfw.registries.auth`). 401 without valid credentials; 403 ``registry.token_scope``
when an OIDC token lacks ``registry.<registry>.<mode>``; 403 ``registry.scope`` when the
consumer's grants do not cover the mode and every field (nothing is looked up); 400 for a
malformed key or unknown fields. Every answered or denied call is in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from zwfw.core import audit, context
from zwfw.core.errors import PermissionDenied
from zwfw.registries import services
from zwfw.registries.auth import Caller, ConsumerBearer, oauth_scope
from zwfw.registries.models import Consumer, Mode
from zwfw.registries.schema import REGISTRIES, get_registry

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


def _caller(request: HttpRequest, registry: str, mode: str) -> tuple[Any, Consumer]:
    """The bound audit context and consumer, after the OIDC token's scope check."""
    caller: Caller = request.auth  # type: ignore[attr-defined]
    consumer = caller.consumer
    spec = get_registry(registry)
    bound = context.bind(actor=consumer.audit_ref)
    if not caller.token_allows(spec.code, mode):
        scope = oauth_scope(spec.code, mode)
        with context.bind(actor=consumer.audit_ref):
            audit.record(
                f"registries:{spec.code}:{mode}_denied",
                spec.object_type,
                "",
                after={
                    "consumer": consumer.name,
                    "consumer_id": consumer.pk,
                    "mode": mode,
                    "missing_token_scope": scope,
                },
            )
        raise PermissionDenied(
            "registry.token_scope",
            f"访问令牌未包含权限范围“{scope}”，请向平台管理员申请后重新获取令牌。",
            f"The access token lacks the scope {scope}.",
            details={"registry": spec.code, "mode": mode, "missing_scope": scope},
        )
    return bound, consumer


@router.post(
    "/{registry}/verify",
    response=VerifyOut,
    summary="核验：所给字段是否全部与基础库一致（是/否）",
    description=_REGISTRY_HELP,
)
def verify(request: HttpRequest, registry: str, payload: ClaimsIn) -> dict[str, Any]:
    bound, consumer = _caller(request, registry, Mode.VERIFY)
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
    bound, consumer = _caller(request, registry, Mode.COMPARE)
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
    bound, consumer = _caller(request, registry, Mode.QUERY)
    with bound:
        record = services.query(consumer, registry, payload.key, payload.fields)
    return {"registry": registry, "record": record}
