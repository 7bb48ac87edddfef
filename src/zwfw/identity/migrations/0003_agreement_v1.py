"""Publish version 1 of the real-name registration agreement (实名注册协议).

Data only; the text lives in ``identity/data/agreement_v1.md``. An existing version 1 (edited
by staff, or loaded earlier) is left alone.
"""

from pathlib import Path

from django.db import migrations
from django.utils import timezone

TEXT = (Path(__file__).resolve().parents[1] / "data" / "agreement_v1.md").read_text("utf-8")


def publish(apps, schema_editor):
    version = apps.get_model("identity", "AgreementVersion")
    version.objects.get_or_create(
        version=1,
        defaults={"title": "实名注册协议", "text": TEXT, "published_at": timezone.now()},
    )


class Migration(migrations.Migration):
    dependencies = [("identity", "0002_accounts")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
