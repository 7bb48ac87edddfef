"""The GB/T 39046 datasets of a case over the API: ``GET /api/v1/cases/{ref}/dataset``.

Two kinds of caller:

- staff who may see the case (its departments, departments with one of its tasks,
  supervisors) — through their session; the read is audited by ``selectors.case_for_staff``;
- a machine (the exchange node, a higher-level platform) with an OAuth client-credentials
  access token of the node's OpenID Connect provider carrying the scope ``cases.dataset``
  (:data:`SCOPE`) — ``Authorization: Bearer <token>``; the read is audited with the client as
  actor (``client:<client_id>``).

Applicants, and staff who may not see the case, get 404 ``cases.case_unknown``; a token
without the scope gets 403 ``cases.token_scope`` (audited); no credentials, 401. The data is
complete (personal data unmasked): see :mod:`zwfw.cases.dataset`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.apps import apps
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import HttpBearer, django_auth
from pydantic import Field, create_model

from zwfw.cases import dataset, selectors
from zwfw.cases.models import CaseStatus
from zwfw.core import audit, context
from zwfw.core.errors import Conflict, NotAuthenticated, PermissionDenied
from zwfw.identity.models import User

SCOPE = "cases.dataset"
SCOPE_DESCRIPTION = "办件交换数据集（GB/T 39046，含完整个人信息）"

router = Router(tags=["cases"])


def register_oauth_scope() -> None:
    """Declare the ``cases.dataset`` machine scope with the OIDC provider (idempotent)."""
    if not apps.is_installed("zwfw.sso"):
        return
    from zwfw.sso.scopes import SCOPES, register_scope

    if SCOPE not in SCOPES:
        register_scope(SCOPE, SCOPE_DESCRIPTION, machine=True)


class MachineClient(NamedTuple):
    """A department system or node holding a client-credentials token."""

    client_id: str
    scopes: frozenset[str]

    @property
    def audit_ref(self) -> str:
        return f"client:{self.client_id}"


class ClientCredentialsBearer(HttpBearer):
    """ninja authentication: a machine access token of the node's OIDC provider, else None
    (so that the session authentication is tried next)."""

    def __call__(self, request: HttpRequest) -> Any:
        if not apps.is_installed("zwfw.sso"):
            return None
        from zwfw.sso.tokens import client_for_bearer

        found = client_for_bearer(request)
        return MachineClient(*found) if found is not None else None

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        # Not reached: __call__ reads the header itself (the provider's own parser).
        return None


def _schema(
    name: str, fields: dict[str, dataset.Element], **overrides: tuple[Any, Any]
) -> type[Schema]:
    """A response schema whose field descriptions are the dataset table's (one source)."""
    definitions: dict[str, Any] = {}
    for key, element in fields.items():
        text = f"{element.name}（{element.format}）" + (f"：{element.note}" if element.note else "")
        kind, default = overrides.get(key, (str, ...))
        definitions[key] = (kind, Field(default, description=text))
    return create_model(name, __base__=Schema, **definitions)


MaterialOut = _schema(
    "DatasetMaterial", dataset.MATERIAL_FIELDS, attachment=(dict[str, Any] | None, None)
)
ApplyOut = _schema("DatasetApply", dataset.APPLY_FIELDS, materials=(list[MaterialOut], ...))  # type: ignore[valid-type]
AcceptOut = _schema("DatasetAccept", dataset.ACCEPT_FIELDS)
StepOut = _schema("DatasetStep", dataset.PROCESS_FIELDS)
SpecialOut = _schema("DatasetSpecial", dataset.SPECIAL_FIELDS)
CloseOut = _schema("DatasetClose", dataset.CLOSE_FIELDS)


class DatasetOut(Schema):
    apply: ApplyOut = Field(description="表5 办事申请")  # type: ignore[valid-type]
    accept: AcceptOut | None = Field(description="表6 事项受理（受理前为 null）")  # type: ignore[valid-type]
    process: list[StepOut] = Field(description="表7 事项办理 1–10，每个环节一条")  # type: ignore[valid-type]
    special: list[SpecialOut] = Field(description="表7 事项办理 11–21，每个特别程序一条")  # type: ignore[valid-type]
    close: CloseOut | None = Field(description="表8 事项办结（办结前为 null）")  # type: ignore[valid-type]


@router.get(
    "/cases/{ref}/dataset",
    response=DatasetOut,
    auth=[ClientCredentialsBearer(), django_auth],
    summary="GB/T 39046 exchange datasets of a case (staff; machines with cases.dataset)",
    description=(
        "Sections `apply` (表5 with `materials`), `accept` (表6, null before acceptance), "
        "`process` (表7 items 1–10 per step; open tasks as 待办), `special` (表7 items 11–21), "
        "`close` (表8, null until the case ends). Keys map to the standard's element names as "
        "documented in `zwfw.cases.dataset.FIELDS`; dates YYYYMMDD, date-times YYYYMMDDhhmmss "
        "(Asia/Shanghai). Personal data is complete: staff who may see the case, or a "
        "client-credentials token with scope `cases.dataset`."
    ),
)
def case_dataset(request: HttpRequest, ref: str) -> dict[str, Any]:
    caller = request.auth  # type: ignore[attr-defined]
    if isinstance(caller, MachineClient):
        with context.bind(actor=caller.audit_ref):
            if SCOPE not in caller.scopes:
                audit.record(
                    "cases:case:dataset_denied",
                    "cases.case",
                    "",
                    after={"ref": str(ref)[:64], "missing_token_scope": SCOPE},
                )
                raise PermissionDenied(
                    "cases.token_scope",
                    f"访问令牌不含 {SCOPE} 权限范围。",
                    f"The access token lacks the {SCOPE} scope.",
                    details={"missing_scope": SCOPE},
                )
            case = dataset.case_for_exchange(ref)
            return dataset.case_dataset(case)
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - django_auth admits users only
        raise NotAuthenticated("auth.required", "请先登录。", "Authentication required.")
    case = selectors.case_for_staff(user, ref, purpose="dataset")
    if case.status == CaseStatus.DRAFT:
        raise Conflict(
            "cases.not_submitted",
            "草稿尚未提交，没有交换数据集。",
            "A draft has no exchange dataset until it is submitted.",
        )
    return dataset.case_dataset(case)


# The provider must know the scope before a client can be granted it.
register_oauth_scope()
