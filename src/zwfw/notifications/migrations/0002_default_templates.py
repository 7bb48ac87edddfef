"""Default message templates, so that every installation (production too) has them.

Data only. Existing rows (same code, channel and language) are left as staff edited them.
Placeholders: ``{node}`` is filled with the node's name by ``services.render`` unless given.
"""

from django.db import migrations

TEMPLATES = [
    # (code, channel, subject, body, description)
    (
        "identity.sms_code",
        "sms",
        "",
        "【{node}】您的验证码为{code}，{minutes}分钟内有效。请勿泄露。",
        "短信验证码（注册、登录、找回密码）",
    ),
    (
        "identity.sms_code",
        "email",
        "【{node}】验证码",
        "您的验证码为{code}，{minutes}分钟内有效。请勿泄露。\n\n如非本人操作，请忽略本邮件。\n\n{node}",
        "电子邮件验证码",
    ),
    (
        "case.accepted",
        "sms",
        "",
        "【{node}】您申请的“{item}”已受理，办件编号{case_number}，承诺办结日期{due_date}。",
        "办件受理通知",
    ),
    (
        "case.accepted",
        "email",
        "【{node}】办件已受理：{case_number}",
        "您好：\n\n您申请的“{item}”（办件编号{case_number}）已受理，承诺办结日期为{due_date}。"
        "您可在“我的办件”中查看办理进度。\n\n{node}",
        "办件受理通知",
    ),
    (
        "case.accepted",
        "site",
        "办件已受理",
        "您申请的“{item}”（办件编号{case_number}）已受理，承诺办结日期为{due_date}。"
        "可在“我的办件”中查看办理进度。",
        "办件受理通知",
    ),
    (
        "case.correction_requested",
        "sms",
        "",
        "【{node}】您申请的“{item}”（办件编号{case_number}）需补正材料，"
        "请于{deadline}前登录“我的办件”查看补正告知书并一次性补齐。",
        "补正告知（一次性告知）",
    ),
    (
        "case.correction_requested",
        "email",
        "【{node}】办件需补正材料：{case_number}",
        "您好：\n\n您申请的“{item}”（办件编号{case_number}）需补正以下材料：\n{materials}\n\n"
        "请于{deadline}前在“我的办件”中一次性补齐。补正期间办理时限暂停计算。\n\n{node}",
        "补正告知（一次性告知）",
    ),
    (
        "case.correction_requested",
        "site",
        "办件需补正材料",
        "您申请的“{item}”（办件编号{case_number}）需补正以下材料：{materials}。"
        "请于{deadline}前一次性补齐，补正期间办理时限暂停计算。",
        "补正告知（一次性告知）",
    ),
    (
        "case.closed",
        "sms",
        "",
        "【{node}】您申请的“{item}”（办件编号{case_number}）已办结，办理结果：{result}。"
        "欢迎对本次服务作出评价。",
        "办结通知",
    ),
    (
        "case.closed",
        "email",
        "【{node}】办件已办结：{case_number}",
        "您好：\n\n您申请的“{item}”（办件编号{case_number}）已办结，办理结果：{result}。\n"
        "欢迎在“我的办件”中对本次服务作出评价。\n\n{node}",
        "办结通知",
    ),
    (
        "case.closed",
        "site",
        "办件已办结",
        "您申请的“{item}”（办件编号{case_number}）已办结，办理结果：{result}。"
        "欢迎对本次服务作出评价。",
        "办结通知",
    ),
    (
        "supervision.warning",
        "sms",
        "",
        "【{node}】电子监察{level}：办件{case_number}（{item}）{reason}，请于{deadline}前处理。",
        "电子监察预警（发给承办人员）",
    ),
    (
        "supervision.warning",
        "site",
        "电子监察{level}：{case_number}",
        "办件{case_number}（{item}）{reason}，请于{deadline}前处理。",
        "电子监察预警（发给承办人员）",
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
    for code, channel, _subject, _body, _description in TEMPLATES:
        MessageTemplate.objects.filter(code=code, channel=channel, language="zh-hans").delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(add_templates, remove_templates)]
