"""Client registration: the service, the command, the admin pages, and their audit records."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider.models import get_application_model

from zwfw.core.errors import ValidationError
from zwfw.core.models import AuditRecord
from zwfw.sso import services
from zwfw.sso.hashers import ALGORITHM
from zwfw.sso.models import ClientPolicy
from zwfw.sso.tests import helpers

Application = get_application_model()
pytestmark = pytest.mark.django_db


def test_create_client_registers_rs256_with_scopes_and_audit() -> None:
    created = helpers.web_client(scopes=["profile", "phone"])
    app = created.application
    assert app.algorithm == "RS256"
    assert app.client_type == "confidential"
    assert app.client_secret.startswith(ALGORITHM + "$")  # hashed, never stored in clear
    assert len(created.client_secret) == 128
    assert ClientPolicy.objects.get(application=app).scopes == "openid profile phone"
    entry = AuditRecord.objects.get(action="sso:client:create")
    assert entry.object_id == created.client_id
    assert entry.after["scopes"] == ["openid", "profile", "phone"]
    assert entry.after["redirect_uris"] == [helpers.RP_CALLBACK]
    assert created.client_secret not in json.dumps(entry.after)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": ""}, "sso.client.name_required"),
        ({"grant": "implicit"}, "sso.client.grant_invalid"),
        (
            {"grant": "client-credentials", "scopes": ["registry.population.verify"]},
            "sso.client.machine_must_be_confidential",
        ),
        ({"grant": "client-credentials", "confidential": True}, "sso.client.scopes_required"),
        ({"scopes": ["openid", "everything"]}, "sso.client.scope_unknown"),
        ({"scopes": ["registry.population.verify"]}, "sso.client.scope_kind"),
        (
            {"grant": "client-credentials", "confidential": True, "scopes": ["phone"]},
            "sso.client.scope_kind",
        ),
        ({"redirect_uris": []}, "sso.client.redirect_uri_invalid"),
        ({"redirect_uris": ["ftp://x.example/cb"]}, "sso.client.redirect_uri_invalid"),
        ({"redirect_uris": ["https://x.example/cb#frag"]}, "sso.client.redirect_uri_invalid"),
    ],
)
def test_create_client_refuses_bad_registrations(kwargs: dict, code: str) -> None:
    arguments = {"name": "某系统", "redirect_uris": [helpers.RP_CALLBACK], **kwargs}
    with pytest.raises(ValidationError) as raised:
        services.create_client(**arguments)
    assert raised.value.code == code
    assert raised.value.message  # Chinese message for people
    assert not Application.objects.exists()
    assert not AuditRecord.objects.exists()


def test_command_prints_credentials_as_json_last_line() -> None:
    out = StringIO()
    call_command(
        "create_oidc_client",
        "--name", "人社局业务系统",
        "--redirect-uri", helpers.RP_CALLBACK,
        "--confidential",
        "--scopes", "openid", "profile zwfw.realname",
        stdout=out,
    )  # fmt: skip
    last = out.getvalue().strip().splitlines()[-1]
    credentials = json.loads(last)
    assert set(credentials) == {"client_id", "client_secret"}
    app = Application.objects.get(client_id=credentials["client_id"])
    assert app.authorization_grant_type == "authorization-code"
    assert app.zwfw_policy.scopes == "openid profile zwfw.realname"
    entry = AuditRecord.objects.get(action="sso:client:create")
    assert entry.actor == "cli:create_oidc_client"


def test_command_machine_client_gets_tokens(client: Client) -> None:
    out = StringIO()
    call_command(
        "create_oidc_client",
        "--name", "人社局核验接口",
        "--grant", "client-credentials",
        "--confidential",
        "--scopes", "registry.population.verify",
        stdout=out,
    )  # fmt: skip
    credentials = json.loads(out.getvalue().strip().splitlines()[-1])
    response = client.post(
        "/oauth/token/",
        {"grant_type": "client_credentials", **credentials},
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "registry.population.verify"


def test_command_public_client_has_no_secret() -> None:
    out = StringIO()
    call_command(
        "create_oidc_client", "--name", "掌上办", "--redirect-uri", "https://m.example/cb",
        stdout=out,
    )  # fmt: skip
    credentials = json.loads(out.getvalue().strip().splitlines()[-1])
    assert credentials["client_secret"] == ""
    assert Application.objects.get(client_id=credentials["client_id"]).client_type == "public"


def test_command_reports_errors_with_their_code() -> None:
    with pytest.raises(CommandError, match=r"\[sso.client.scope_unknown\]"):
        call_command(
            "create_oidc_client",
            "--name",
            "x",
            "--redirect-uri",
            helpers.RP_CALLBACK,
            "--scopes",
            "all",
            stdout=StringIO(),
        )
    assert not Application.objects.exists()


def test_delete_client_is_audited() -> None:
    created = helpers.machine_client()
    services.delete_client(created.application)
    assert not Application.objects.exists()
    entry = AuditRecord.objects.get(action="sso:client:delete")
    assert entry.object_id == created.client_id
    assert entry.before["scopes"] == ["registry.population.verify"]


# --- admin pages ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client: Client, django_user_model) -> Client:
    client.force_login(django_user_model.objects.create_superuser("root", password="x" * 12))
    return client


def _admin_form(**overrides: str) -> dict[str, str]:
    data = {
        "client_id": "dept-system-01",
        "redirect_uris": helpers.RP_CALLBACK,
        "post_logout_redirect_uris": "",
        "client_type": "confidential",
        "authorization_grant_type": "authorization-code",
        "client_secret": "s" * 64,
        "hash_client_secret": "on",
        "name": "住建局业务系统",
        "allowed_origins": "",
        "zwfw_policy-TOTAL_FORMS": "1",
        "zwfw_policy-INITIAL_FORMS": "0",
        "zwfw_policy-MIN_NUM_FORMS": "1",
        "zwfw_policy-MAX_NUM_FORMS": "1",
        "zwfw_policy-0-scopes": "profile  phone",
    }
    data.update(overrides)
    return data


def test_admin_creates_and_deletes_clients_with_audit(admin_client: Client) -> None:
    response = admin_client.post("/admin/oauth2_provider/application/add/", _admin_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    app = Application.objects.get(client_id="dept-system-01")
    assert app.algorithm == "RS256"
    assert app.zwfw_policy.scopes == "openid profile phone"
    created = AuditRecord.objects.get(action="sso:client:create")
    assert created.after["scopes"] == ["openid", "profile", "phone"]
    assert created.actor.startswith("user:")

    response = admin_client.post(
        f"/admin/oauth2_provider/application/{app.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Application.objects.exists()
    deleted = AuditRecord.objects.get(action="sso:client:delete")
    assert deleted.before["name"] == "住建局业务系统"


def test_admin_refuses_scopes_that_do_not_fit(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/oauth2_provider/application/add/",
        _admin_form(**{"zwfw_policy-0-scopes": "registry.population.verify"}),
    )
    assert response.status_code == 200
    assert "不能授予" in response.content.decode()
    assert not Application.objects.exists()
    assert not AuditRecord.objects.exists()


def test_admin_bulk_delete_is_audited(admin_client: Client) -> None:
    first, second = helpers.machine_client(), helpers.web_client()
    response = admin_client.post(
        "/admin/oauth2_provider/application/",
        {
            "action": "delete_selected",
            "_selected_action": [first.application.pk, second.application.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Application.objects.exists()
    assert set(
        AuditRecord.objects.filter(action="sso:client:delete").values_list("object_id", flat=True)
    ) == {first.client_id, second.client_id}


def test_admin_change_of_a_client_is_audited_with_before_and_after(admin_client: Client) -> None:
    created = helpers.web_client(scopes=["profile"])
    app = created.application
    form = _admin_form(
        client_id=app.client_id,
        client_secret=app.client_secret,  # unchanged (already hashed)
        name="人社局业务系统（新）",
        **{
            "zwfw_policy-INITIAL_FORMS": "1",
            "zwfw_policy-0-application": str(app.pk),
            "zwfw_policy-0-scopes": "openid profile zwfw.realname",
        },
    )
    response = admin_client.post(f"/admin/oauth2_provider/application/{app.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditRecord.objects.get(action="sso:client:change")
    assert entry.before["name"] == "人社局业务系统"
    assert entry.before["scopes"] == ["openid", "profile"]
    assert entry.after["name"] == "人社局业务系统（新）"
    assert entry.after["scopes"] == ["openid", "profile", "zwfw.realname"]


def test_trusted_providers_are_audited_and_keep_their_secret(admin_client: Client) -> None:
    from zwfw.sso.models import ExternalProvider

    data = {
        "slug": "sc",
        "name": "四川省统一身份认证平台",
        "issuer": "https://tyrz.sc.gov.cn",
        "client_id": "guangan-node",
        "client_secret": "upstream-secret",
        "scopes": "openid profile zwfw.realname",
        "enabled": "on",
        "account_mode": "unified",
        "max_trust_level": "L3",
    }
    assert admin_client.post("/admin/sso/externalprovider/add/", data).status_code == 302
    provider = ExternalProvider.objects.get(slug="sc")
    assert provider.client_secret == "upstream-secret"
    created = AuditRecord.objects.get(action="sso:external_provider:create")
    assert created.after["secret_changed"] is True
    assert "upstream-secret" not in json.dumps(created.after)

    data.update(client_secret="", max_trust_level="L4")  # empty secret: keep the old one
    change = f"/admin/sso/externalprovider/{provider.pk}/change/"
    assert admin_client.post(change, data).status_code == 302
    provider.refresh_from_db()
    assert provider.client_secret == "upstream-secret"
    changed = AuditRecord.objects.get(action="sso:external_provider:change")
    assert (changed.before["max_trust_level"], changed.after["max_trust_level"]) == ("L3", "L4")
    assert changed.after["secret_changed"] is False

    delete = f"/admin/sso/externalprovider/{provider.pk}/delete/"
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert AuditRecord.objects.filter(action="sso:external_provider:delete").count() == 1
