"""The single-sign-on app's public functions: OAuth clients and federated identities.

Other apps use these (and :func:`zwfw.sso.tokens.client_for_bearer`); pages, admin and the
``create_oidc_client`` command go through them too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AbstractApplication, get_application_model

from zwfw.core import audit
from zwfw.core.crypto import CryptoError
from zwfw.core.errors import Conflict, ValidationError
from zwfw.core.pii import decrypt_text, encrypt_text
from zwfw.identity.models import TRUST_ORDER, TrustLevel
from zwfw.sso import scopes as scope_registry
from zwfw.sso.models import ClientPolicy, ExternalProvider, FederatedIdentity

Application = get_application_model()

GRANT_AUTHORIZATION_CODE = AbstractApplication.GRANT_AUTHORIZATION_CODE
GRANT_CLIENT_CREDENTIALS = AbstractApplication.GRANT_CLIENT_CREDENTIALS
GRANTS = (GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS)
DEFAULT_PERSON_SCOPES = ("openid", "profile")


# --- clients -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedClient:
    application: Any
    client_id: str
    #: The plain secret, shown once (only its hash is stored); empty for public clients.
    client_secret: str


def check_client_scopes(grant: str, scopes: list[str]) -> list[str]:
    """The scopes a client of ``grant`` will be allowed, validated (raises ValidationError).

    Sign-in clients always get ``openid``; machine clients must name their scopes.
    """
    unknown = scope_registry.unknown_scopes(scopes)
    if unknown:
        raise ValidationError(
            "sso.client.scope_unknown",
            f"未知的授权范围：{'、'.join(unknown)}。",
            f"Unknown scopes: {', '.join(unknown)}.",
            field="scopes",
            details={"unknown": unknown},
        )
    machine = grant == GRANT_CLIENT_CREDENTIALS
    wrong = [name for name in scopes if scope_registry.SCOPES[name].machine != machine]
    if wrong:
        kind = "机器（客户端凭证）" if machine else "用户登录（授权码）"
        raise ValidationError(
            "sso.client.scope_kind",
            f"以下范围不能授予{kind}客户端：{'、'.join(wrong)}。",
            f"These scopes do not fit a {grant} client: {', '.join(wrong)}.",
            field="scopes",
            details={"scopes": wrong},
        )
    if machine:
        if not scopes:
            raise ValidationError(
                "sso.client.scopes_required",
                "机器客户端须指定授权范围。",
                "A machine client needs at least one scope.",
                field="scopes",
            )
        return list(dict.fromkeys(scopes))
    chosen = list(scopes) or list(DEFAULT_PERSON_SCOPES)
    return list(dict.fromkeys(["openid", *chosen]))


def create_client(
    *,
    name: str,
    redirect_uris: list[str] | None = None,
    confidential: bool = False,
    scopes: list[str] | None = None,
    grant: str = GRANT_AUTHORIZATION_CODE,
    post_logout_redirect_uris: list[str] | None = None,
    skip_authorization: bool = False,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> CreatedClient:
    """Register an OAuth/OIDC client; returns it with its secret (shown only now).

    ``client_id`` / ``client_secret`` keep the credentials of a client moved from another
    platform (or a documented demo client); by default both are generated.

    Raises ``ValidationError`` (code ``sso.client.*``) for a missing name, an unknown grant, a
    public machine client, missing or malformed redirect URIs, or unfitting scopes.
    """
    name = (name or "").strip()
    if not name or len(name) > 255:
        raise ValidationError(
            "sso.client.name_required",
            "请填写客户端名称（不超过255字）。",
            "A name is required.",
            field="name",
        )
    if grant not in GRANTS:
        raise ValidationError(
            "sso.client.grant_invalid",
            "授权方式只能是 authorization-code 或 client-credentials。",
            f"Unknown grant {grant!r}.",
            field="grant",
        )
    if grant == GRANT_CLIENT_CREDENTIALS and not confidential:
        raise ValidationError(
            "sso.client.machine_must_be_confidential",
            "机器客户端必须是保密客户端（持有密钥）。",
            "A client-credentials client must be confidential.",
            field="confidential",
        )
    allowed = check_client_scopes(grant, list(scopes or []))
    secret = (client_secret or generate_client_secret()) if confidential else ""
    identifier = {"client_id": client_id} if client_id else {}
    application = Application(
        **identifier,
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC,
        authorization_grant_type=grant,
        redirect_uris=" ".join(redirect_uris or []),
        post_logout_redirect_uris=" ".join(post_logout_redirect_uris or []),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=skip_authorization,
        client_secret=secret,
        hash_client_secret=True,
    )
    try:
        application.full_clean(exclude=["client_secret", "user"])
    except DjangoValidationError as error:
        fields = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        field = next(iter(fields))
        raise ValidationError(
            "sso.client.redirect_uri_invalid" if "redirect" in field else "sso.client.invalid",
            "客户端登记信息有误：" + "；".join(fields[field]),
            "; ".join(fields[field]),
            field=field,
            details={"errors": fields},
        ) from None
    with transaction.atomic():
        application.save()
        ClientPolicy.objects.create(application=application, scopes=" ".join(allowed))
        audit.record(
            "sso:client:create",
            "oauth2_provider.application",
            application.client_id,
            after=client_summary(application, allowed),
        )
    return CreatedClient(application, application.client_id, secret)


def client_summary(application: Any, scopes: list[str] | None = None) -> dict[str, Any]:
    """What the audit log keeps of a client (never its secret)."""
    if scopes is None:
        from zwfw.sso.scopes import allowed_scopes

        scopes = allowed_scopes(application)
    return {
        "name": application.name,
        "client_type": application.client_type,
        "grant": application.authorization_grant_type,
        "redirect_uris": application.redirect_uris.split(),
        "post_logout_redirect_uris": application.post_logout_redirect_uris.split(),
        "skip_authorization": application.skip_authorization,
        "scopes": scopes,
    }


def delete_client(application: Any) -> None:
    """Remove a client with all its tokens (audited)."""
    with transaction.atomic():
        audit.record(
            "sso:client:delete",
            "oauth2_provider.application",
            application.client_id,
            before=client_summary(application),
        )
        application.delete()


# --- federation ----------------------------------------------------------------------------

PENDING_SESSION_KEY = "zwfw_federation_pending"
PENDING_TTL = dt.timedelta(minutes=15)
PENDING_CLAIMS_CONTEXT = "sso.session.pending_claims"
#: Claims of an external provider kept for the link-or-register step (no tokens, no raw JWT).
KEPT_CLAIMS = (
    "name",
    "preferred_username",
    "email",
    "phone_number",
    "zwfw_trust_level",
    "zwfw_subject_kind",
)


def accepted_trust_level(provider: ExternalProvider, claimed: Any) -> str:
    """The real-name level this node grants for a level claimed by ``provider``, capped."""
    if not isinstance(claimed, str) or claimed not in TRUST_ORDER:
        return TrustLevel.NONE.value
    cap = provider.max_trust_level
    return claimed if TRUST_ORDER[claimed] <= TRUST_ORDER.get(cap, 0) else cap


def remember_pending_identity(
    request: Any, provider: ExternalProvider, claims: dict[str, Any]
) -> dict[str, Any]:
    """Keep a verified, not yet linked external identity in the session."""
    kept = {name: claims[name] for name in KEPT_CLAIMS if name in claims}
    pending = {
        "provider": provider.slug,
        "provider_id": provider.pk,
        "provider_name": provider.name,
        "issuer": provider.issuer,
        "account_mode": provider.account_mode,
        "subject": str(claims["sub"]),
        "trust_level": accepted_trust_level(provider, claims.get("zwfw_trust_level")),
        "verified_at": timezone.now().isoformat(),
    }
    # Sessions live in a database table: the person's name and phone go in encrypted.
    request.session[PENDING_SESSION_KEY] = {
        **pending,
        "claims": encrypt_text(json.dumps(kept, ensure_ascii=False), PENDING_CLAIMS_CONTEXT),
    }
    return {**pending, "claims": kept}


def pending_federated_claims(request: Any) -> dict[str, Any] | None:
    """The external identity waiting to be linked in this session, or None.

    Returns ``{"provider", "provider_name", "issuer", "account_mode", "subject", "claims",
    "trust_level", "verified_at", …}``: ``claims`` are the provider's verified ID-token claims
    (``name``, ``phone_number``, ``email``, ``zwfw_trust_level`` … when given) and
    ``trust_level`` is the level this node accepts from that provider (capped by
    ``ExternalProvider.max_trust_level``). Expires 15 minutes after the provider's sign-in.
    """
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    try:
        verified_at = dt.datetime.fromisoformat(pending["verified_at"])
        claims = json.loads(decrypt_text(pending["claims"], PENDING_CLAIMS_CONTEXT))
    except (KeyError, TypeError, ValueError, CryptoError):
        verified_at = None
    if verified_at is None or timezone.now() - verified_at > PENDING_TTL:
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    return {**pending, "claims": claims}


def link_federated_identity(user: Any, request: Any) -> FederatedIdentity:
    """Bind the session's pending external identity to ``user`` (who must be signed in or
    just registered by the caller); clears the pending state.

    Raises ``ValidationError`` ``sso.federation.nothing_pending`` when nothing (or something
    expired) is pending, ``Conflict`` ``sso.federation.subject_taken`` when that external
    account is already bound, ``sso.federation.user_linked`` when ``user`` already has another
    account of the same provider.
    """
    pending = pending_federated_claims(request)
    provider_id = pending.get("provider_id") if pending else None
    provider = (
        ExternalProvider.objects.filter(pk=provider_id, enabled=True).first()
        if isinstance(provider_id, int)
        else None
    )
    if pending is None or provider is None:
        raise ValidationError(
            "sso.federation.nothing_pending",
            "没有待绑定的外部账号，或已超时，请重新通过外部平台登录。",
            "No external identity is waiting to be linked (or it expired).",
        )
    subject = pending["subject"]
    if FederatedIdentity.objects.filter(provider=provider, subject=subject).exists():
        raise _subject_taken()
    if FederatedIdentity.objects.filter(provider=provider, user=user).exists():
        raise Conflict(
            "sso.federation.user_linked",
            f"当前账号已绑定{provider.name}的另一个账号。",
            "This account is already linked to another account of that provider.",
        )
    try:
        with transaction.atomic():
            identity = FederatedIdentity.objects.create(
                user=user, provider=provider, subject=subject, last_login_at=timezone.now()
            )
            audit.record(
                "sso:federated_identity:link",
                "sso.federatedidentity",
                identity.pk,
                after={"provider": provider.slug, "subject": subject, "user": user.pk},
                actor=f"user:{user.pk}",
            )
    except IntegrityError:
        raise _subject_taken() from None
    request.session.pop(PENDING_SESSION_KEY, None)
    return identity


def _subject_taken() -> Conflict:
    return Conflict(
        "sso.federation.subject_taken",
        "该外部账号已绑定其他本地账号。",
        "That external account is already linked to another local account.",
    )


def sign_in_federated(request: Any, identity: FederatedIdentity) -> None:
    """Log the bound local account in after its provider vouched for the subject (audited).

    The sign-in is finished by the identity app like any other (session tracking, pending
    obligations such as a new agreement version, its login audit record).
    """
    from zwfw.identity.services import login_registered

    with transaction.atomic():
        FederatedIdentity.objects.filter(pk=identity.pk).update(last_login_at=timezone.now())
        audit.record(
            "sso:federation:login",
            "identity.user",
            identity.user_id,
            after={"provider": identity.provider.slug, "subject": identity.subject},
            actor=f"user:{identity.user_id}",
        )
    login_registered(request, identity.user, "federation")
