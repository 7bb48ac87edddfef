"""DailyRollup.month (first day of the day's month) for the trend's GROUP BY.

The rollups are derived data: existing rows are dropped and the state reset, so the next read
(or ``zwfw indicators_refresh``) rebuilds every day with the new column.
"""

import datetime

from django.db import migrations, models


def reset(apps, schema_editor):
    apps.get_model("indicators", "DailyRollup").objects.all().delete()
    apps.get_model("indicators", "RollupState").objects.update(refreshed_at=None)


class Migration(migrations.Migration):
    dependencies = [("indicators", "0002_rollup_warnings_catalog")]

    operations = [
        migrations.AddField(
            model_name="dailyrollup",
            name="month",
            field=models.DateField(default=datetime.date(2000, 1, 1)),
            preserve_default=False,
        ),
        migrations.RunPython(reset, migrations.RunPython.noop),
    ]
