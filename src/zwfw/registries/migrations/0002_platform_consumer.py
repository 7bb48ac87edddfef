"""The platform's own consumer ``platform`` with 核验/比对 on both registries (registration).

Not audited: migrations set up the node; services.ensure_platform_consumer recreates the same
consumer (audited) if it is ever missing.
"""

from django.db import migrations

POPULATION_FIELDS = [
    "name",
    "id_number",
    "sex",
    "ethnicity",
    "birth_date",
    "household_division",
    "address",
    "phone",
    "social_security_card",
    "bank_card",
    "housing_fund_account",
    "driving_licence_file",
    "status",
]
LEGAL_ENTITY_FIELDS = [
    "uscc",
    "name",
    "entity_type",
    "legal_rep_name",
    "legal_rep_id_number",
    "address",
    "registration_date",
    "business_scope",
    "status",
]


def create_platform_consumer(apps, schema_editor):
    Consumer = apps.get_model("registries", "Consumer")
    Grant = apps.get_model("registries", "Grant")
    consumer, created = Consumer.objects.get_or_create(
        name="platform", defaults={"kind": "internal"}
    )
    if not created:
        return
    for registry, fields in (
        ("population", POPULATION_FIELDS),
        ("legal_entity", LEGAL_ENTITY_FIELDS),
    ):
        for mode in ("verify", "compare"):
            Grant.objects.create(consumer=consumer, registry=registry, mode=mode, fields=fields)


def remove_platform_consumer(apps, schema_editor):
    apps.get_model("registries", "Consumer").objects.filter(name="platform").delete()


class Migration(migrations.Migration):
    dependencies = [("registries", "0001_initial")]

    operations = [migrations.RunPython(create_platform_consumer, remove_platform_consumer)]
