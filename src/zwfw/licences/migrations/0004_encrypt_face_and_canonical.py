"""Encrypt licences' face data and canonical JSON at rest (both hold the holder's ID number).

New encrypted columns are filled from the plain ones, which are then dropped and the new ones
take their names; the associated data of the encryption names the final column.
"""

from typing import Any

from django.db import migrations, models

import zwfw.core.pii


def encrypt_existing(apps: Any, schema_editor: Any) -> None:
    licence_model = apps.get_model("licences", "Licence")
    rows = licence_model.objects.values_list("pk", "face", "canonical").iterator(chunk_size=2000)
    for pk, face, canonical in rows:
        licence_model.objects.filter(pk=pk).update(face_sealed=face, canonical_sealed=canonical)


def decrypt_back(apps: Any, schema_editor: Any) -> None:
    licence_model = apps.get_model("licences", "Licence")
    rows = licence_model.objects.values_list("pk", "face_sealed", "canonical_sealed")
    for pk, face, canonical in rows.iterator(chunk_size=2000):
        licence_model.objects.filter(pk=pk).update(face=face, canonical=canonical)


class Migration(migrations.Migration):
    dependencies = [("licences", "0003_licence_use")]

    operations = [
        migrations.AddField(
            model_name="licence",
            name="face_sealed",
            field=zwfw.core.pii.EncryptedJSONField(aad="licences.licence.face", default=dict),
        ),
        migrations.AddField(
            model_name="licence",
            name="canonical_sealed",
            field=zwfw.core.pii.EncryptedTextField(
                aad="licences.licence.canonical",
                default="",
                help_text="the signed data: canonical JSON (sorted keys, UTF-8)",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(encrypt_existing, decrypt_back),
        # a default, so that going back can re-add the plain column before refilling it
        migrations.AlterField(
            model_name="licence",
            name="canonical",
            field=models.TextField(default="", help_text="the signed data (plain, old column)"),
        ),
        migrations.RemoveField(model_name="licence", name="face"),
        migrations.RemoveField(model_name="licence", name="canonical"),
        migrations.RenameField(model_name="licence", old_name="face_sealed", new_name="face"),
        migrations.RenameField(
            model_name="licence", old_name="canonical_sealed", new_name="canonical"
        ),
    ]
