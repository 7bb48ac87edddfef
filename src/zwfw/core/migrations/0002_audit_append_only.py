"""Make audit records immutable in the database itself, and create the chain head.

Row updates are refused on both databases and row deletes on PostgreSQL. Whole-table
TRUNCATE (PostgreSQL) and DELETE (SQLite) stay possible because Django's test flush uses
them; the hash chain and the head row still expose any removal (``zwfw verify_audit``).
"""

from django.db import migrations

TABLE = "core_auditrecord"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION zwfw_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER zwfw_audit_no_update BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION zwfw_audit_append_only();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS zwfw_audit_no_update ON {TABLE};
DROP FUNCTION IF EXISTS zwfw_audit_append_only();
"""
SQLITE_UP = [
    f"""CREATE TRIGGER zwfw_audit_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit records are append-only (UPDATE refused)'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS zwfw_audit_no_update",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)
    head_model = apps.get_model("core", "AuditChainHead")
    head_model.objects.get_or_create(pk=1, defaults={"last_id": 0, "last_hash": "0" * 64})


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
