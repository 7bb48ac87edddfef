"""Seed the supervision rules (电子监察规则) R01–R08."""

from __future__ import annotations

from typing import Any

from django.db import migrations

RULES = [
    (
        "R01",
        "环节超期",
        "办理环节（受理、审查、决定）超过本环节时限仍未办结。",
        "orange",
        2,
        True,
        {},
    ),
    (
        "R02",
        "办件临近超期",
        "承诺件已用计时日达到承诺时限的预警比例（默认80%，暂停计时与节假日不计）且尚未办结。",
        "yellow",
        2,
        True,
        {},
    ),
    (
        "R03",
        "办件超期",
        "办件超过承诺办结期限（计时未暂停）仍未办结；自动发出督办单。",
        "red",
        2,
        True,
        {"auto_order": True},
    ),
    (
        "R04",
        "不予受理或退回未说明理由",
        "不予受理、不予许可或退回环节未填写理由。",
        "red",
        2,
        True,
        {},
    ),
    (
        "R05",
        "未经审查作出决定",
        "办件已作出决定并办结，但没有完成审查（或即办）环节的记录。",
        "red",
        2,
        True,
        {},
    ),
    (
        "R06",
        "暂停计时过长",
        "补正、特别程序或挂起暂停计时超过允许的自然日数（默认60日），或特别程序超过预计结束日期。",
        "orange",
        2,
        True,
        {},
    ),
    (
        "R07",
        "收费不在目录",
        "收取的费用不在事项收费目录中。平台尚无缴费记录，本规则暂不可启用。",
        "red",
        2,
        False,
        {},
    ),
    (
        "R08",
        "疑似体外办理",
        "办件已办结，但平台上没有受理、审查或决定环节的记录。",
        "red",
        2,
        True,
        {},
    ),
]


def seed(apps: Any, schema_editor: Any) -> None:
    rule = apps.get_model("supervision", "Rule")
    for code, name, description, severity, days, enabled, parameters in RULES:
        rule.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "severity": severity,
                "response_working_days": days,
                "enabled": enabled,
                "parameters": parameters,
            },
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("supervision", "Rule").objects.filter(code__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
