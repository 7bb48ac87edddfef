"""Message templates of case handling (data only; rows staff edited are left alone)."""

from django.db import migrations

TEMPLATES = [
    # (code, channel, subject, body, description)
    (
        "case.submitted",
        "sms",
        "",
        "【{node}】您申请的“{item}”已提交，办件编号{case_number}，查询密码{query_password}，"
        "请妥善保管。",
        "申请提交回执（含查询密码）",
    ),
    (
        "case.submitted",
        "site",
        "申请已提交",
        "您申请的“{item}”已提交，办件编号{case_number}，查询密码{query_password}。"
        "可凭编号和密码在“我要查”查询办理进度。",
        "申请提交回执（含查询密码）",
    ),
    (
        "case.refused",
        "sms",
        "",
        "【{node}】您申请的“{item}”（办件编号{case_number}）不予受理，理由：{reason}。",
        "不予受理通知",
    ),
    (
        "case.refused",
        "site",
        "申请不予受理",
        "您申请的“{item}”（办件编号{case_number}）不予受理，理由：{reason}。"
        "不予受理通知书可在“我的办件”中查看。",
        "不予受理通知",
    ),
    (
        "case.task_reminder",
        "site",
        "待办提醒：{case_number}",
        "办件{case_number}（{item}）的“{step}”环节尚未办理，请及时处理。",
        "环节到期提醒（发给承办人员）",
    ),
]


def add_templates(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for code, channel, subject, body, description in TEMPLATES:
        MessageTemplate.objects.get_or_create(
            code=code,
            channel=channel,
            language="zh-hans",
            defaults={"subject": subject, "body": body, "description": description},
        )


def remove_templates(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for code, channel, *_ in TEMPLATES:
        MessageTemplate.objects.filter(code=code, channel=channel, language="zh-hans").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("notifications", "0002_default_templates"),
    ]

    operations = [migrations.RunPython(add_templates, remove_templates)]
