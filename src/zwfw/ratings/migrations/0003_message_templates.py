"""Message templates of 好差评 (data only; rows staff edited are left alone)."""

from django.db import migrations

TEMPLATES = [
    # (code, channel, subject, body, description)
    (
        "ratings.bad_rating",
        "site",
        "差评待核实：{subject}",
        "{department}收到一条“{level}”评价（{subject}），请在{deadline}前核实，"
        "选择立行立改、限期整改或解释说明；评价人留有联系方式的须回访。",
        "差评整改提醒（发给部门管理员和决定人员）",
    ),
    (
        "ratings.rectification_closed",
        "site",
        "您的评价已整改办结",
        "您对{subject}的评价已由{department}核实整改并办结：{measures}",
        "差评整改办结告知（发给登录评价的评价人）",
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
        ("ratings", "0002_department_day_index"),
        ("notifications", "0002_default_templates"),
    ]

    operations = [migrations.RunPython(add_templates, remove_templates)]
