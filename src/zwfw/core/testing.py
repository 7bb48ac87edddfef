"""Test support: put back the rows that data migrations create.

A transactional test (``django_db(transaction=True)``) ends by flushing every table, which also
removes what data migrations inserted (message templates, the agreement, the registries'
platform consumer). Django's ``serialized_rollback`` can restore them but breaks when content
types were re-created meanwhile; re-running the (idempotent) migration functions is simpler.
"""

from __future__ import annotations

import importlib

from django.apps import apps

#: (migration module, forward function) of every data migration whose rows tests rely on.
DATA_MIGRATIONS = (
    ("zwfw.notifications.migrations.0002_default_templates", "add_templates"),
    ("zwfw.cases.migrations.0002_message_templates", "add_templates"),
    ("zwfw.identity.migrations.0003_agreement_v1", "publish"),
    ("zwfw.registries.migrations.0002_platform_consumer", "create_platform_consumer"),
    ("zwfw.ratings.migrations.0003_message_templates", "add_templates"),
    ("zwfw.supervision.migrations.0002_seed_rules", "seed"),
)


def reseed_migration_data() -> None:
    for module_name, function_name in DATA_MIGRATIONS:
        module = importlib.import_module(module_name)
        getattr(module, function_name)(apps, None)
