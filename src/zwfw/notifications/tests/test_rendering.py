"""Templates: rendering with strict placeholders, the default templates, the channel mapping."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from zwfw.core.errors import NotFound, ValidationError
from zwfw.notifications import providers
from zwfw.notifications.models import MessageTemplate
from zwfw.notifications.services import render

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def node_name(settings) -> None:
    settings.NODE_NAME = "测试市政务服务平台"


def test_default_templates_are_installed_by_the_data_migration() -> None:
    pairs = set(MessageTemplate.objects.values_list("code", "channel"))
    assert {
        ("identity.sms_code", "sms"),
        ("case.accepted", "sms"),
        ("case.accepted", "site"),
        ("case.accepted", "email"),
        ("case.correction_requested", "sms"),
        ("case.correction_requested", "site"),
        ("case.closed", "sms"),
        ("case.closed", "site"),
        ("supervision.warning", "site"),
        ("supervision.warning", "sms"),
    } <= pairs
    sms_code = MessageTemplate.objects.get(code="identity.sms_code", channel="sms")
    assert sms_code.body == "【{node}】您的验证码为{code}，{minutes}分钟内有效。请勿泄露。"


def test_render_sms_code() -> None:
    subject, body = render("identity.sms_code", "sms", {"code": "864209", "minutes": 5})
    assert subject == ""
    assert body == "【测试市政务服务平台】您的验证码为864209，5分钟内有效。请勿泄露。"


def test_every_default_template_renders_with_its_placeholders() -> None:
    from zwfw.notifications.services import check_template_text

    for template in MessageTemplate.objects.all():
        names = check_template_text(template.subject) + check_template_text(template.body)
        context = {name: f"<{name}>" for name in names}
        subject, body = render(template.code, template.channel, context)
        assert "{" not in subject + body
        assert body


def test_missing_key_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        render("identity.sms_code", "sms", {"code": "864209"})
    error = caught.value
    assert error.code == "notify.template_context"
    assert error.details["key"] == "minutes"
    assert "minutes" in error.message
    assert "864209" not in str(error.as_dict())


def test_unknown_or_inactive_template() -> None:
    with pytest.raises(NotFound) as caught:
        render("no.such.template", "sms", {})
    assert caught.value.code == "notify.template_unknown"
    with pytest.raises(NotFound):
        render("identity.sms_code", "site", {"code": "1", "minutes": 1})
    MessageTemplate.objects.filter(code="case.closed", channel="sms").update(is_active=False)
    with pytest.raises(NotFound):
        render("case.closed", "sms", {"item": "x", "case_number": "1", "result": "准予"})


def test_language_falls_back_to_the_default() -> None:
    MessageTemplate.objects.create(
        code="case.accepted", channel="sms", language="en", body="[{node}] Case {case_number}."
    )
    context = {"item": "户口迁移", "case_number": "N1", "due_date": "2025-10-11"}
    assert (
        render("case.accepted", "sms", context, language="en")[1] == "[测试市政务服务平台] Case N1."
    )
    assert render("case.accepted", "sms", context, language="ug")[1].startswith("【测试市")


def test_node_can_be_given_and_format_specs_work() -> None:
    MessageTemplate.objects.create(
        code="payment.due", channel="site", subject="缴费\n通知 {node}", body="应缴{fee:.2f}元"
    )
    subject, body = render("payment.due", "site", {"fee": 12.5, "node": "某节点"})
    assert subject == "缴费 通知 某节点"  # one header line
    assert body == "应缴12.50元"


@pytest.mark.parametrize("body", ["{user.password}", "{items[0]}", "{}", "未闭合{", "{a:{b.c}}"])
def test_unsafe_or_malformed_placeholders_are_refused(body: str) -> None:
    MessageTemplate.objects.create(code="bad.template", channel="site", subject="s", body=body)
    with pytest.raises(ValidationError) as caught:
        render("bad.template", "site", {"user": object(), "items": [1], "a": 1, "b": 2})
    assert caught.value.code == "notify.template_invalid"


# --- channel → provider mapping ------------------------------------------------------------


def test_default_mapping_is_valid() -> None:
    assert providers.check_channel_mapping() == []
    assert providers.channel_mapping() == {"sms": "sandbox", "email": "sandbox", "site": "site"}
    assert providers.provider_for("site").name == "site"


def test_bad_mapping_is_reported_clearly(settings) -> None:
    settings.NOTIFY_CHANNELS = "sms=smtp, email=nope, site=site, fax=x, broken"
    errors = providers.check_channel_mapping()
    assert {e.id for e in errors} == {"notifications.E001"}
    text = "\n".join(e.msg for e in errors)
    assert "provider 'smtp' cannot send sms messages" in text
    assert "unknown provider 'nope' for email" in text
    assert "unknown channel 'fax'" in text
    assert "'broken' is not channel=provider" in text
    with pytest.raises(ImproperlyConfigured, match="ZWFW_NOTIFY_CHANNELS"):
        providers.provider_for("sms")


def test_unmapped_channel_is_reported(settings) -> None:
    settings.NOTIFY_CHANNELS = "sms=sandbox"
    messages = [e.msg for e in providers.check_channel_mapping()]
    assert messages == [
        "ZWFW_NOTIFY_CHANNELS: channel 'email' has no provider",
        "ZWFW_NOTIFY_CHANNELS: channel 'site' has no provider",
    ]


def test_system_check_runs_at_startup(settings) -> None:
    from django.core import checks

    settings.NOTIFY_CHANNELS = "sms=carrier-pigeon,email=smtp,site=site"
    found = [m for m in checks.run_checks() if m.id == "notifications.E001"]
    assert len(found) == 1
    assert "carrier-pigeon" in found[0].msg
