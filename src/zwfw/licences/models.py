"""Licence types (证照类型) and licences (电子证照) of SPEC §9."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

from zwfw.cases.models import Case
from zwfw.catalog.models import Item
from zwfw.core.pii import BlindIndexField, EncryptedJSONField, EncryptedTextField
from zwfw.organisations.models import Department
from zwfw.signing.models import Seal


class HolderKind(models.TextChoices):
    PERSON = "person", "自然人"
    COMPANY = "company", "法人"


class LicenceType(models.Model):
    """A kind of licence: GB/T 36904 type code, face fields (照面信息), validity, issuers."""

    code = models.CharField(
        "证照类型代码", max_length=21, unique=True, help_text="defining department USCC + 3 digits"
    )
    name = models.CharField(max_length=200)
    holder_kind = models.CharField(max_length=8, choices=HolderKind.choices)
    face_fields = models.JSONField(
        default=list, help_text="[{name, label, type (string/date), required}]"
    )
    validity_years = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="years of validity; empty for no expiry"
    )
    departments = models.ManyToManyField(Department, related_name="licence_types", blank=True)
    created_automatically = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class SerialCounter(models.Model):
    """The issuer-local sequence licence serials are taken from."""

    department = models.OneToOneField(Department, on_delete=models.CASCADE, related_name="+")
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.department_id}: {self.last}"


class Licence(models.Model):
    """One version of an electronic licence, with its signed data and rendered files."""

    class Status(models.TextChoices):
        VALID = "valid", "有效"
        REVOKED = "revoked", "已注销/吊销"
        EXPIRED = "expired", "已过期"
        SUPERSEDED = "superseded", "已换发"

    identifier = models.CharField(max_length=80, unique=True)
    licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="+")
    holder_kind = models.CharField(max_length=8, choices=HolderKind.choices)
    holder_name = models.CharField(max_length=200)
    holder_id_number = EncryptedTextField()
    holder_id_index = BlindIndexField(source="holder_id_number")
    issuer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="licences")
    serial = models.CharField(max_length=20)
    version = models.PositiveSmallIntegerField(default=1)
    # The face data and the signed canonical JSON both hold the holder's ID number: encrypted
    # at rest like every personal datum (decision 0004).
    face = EncryptedJSONField(aad="licences.licence.face", default=dict)
    issued_at = models.DateTimeField()
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.VALID)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=500, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="licences"
    )
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="+")
    canonical = EncryptedTextField(
        aad="licences.licence.canonical",
        help_text="the signed data: canonical JSON (sorted keys, UTF-8)",
    )
    signature = models.BinaryField(help_text="SES_Signature (GB/T 38540) over the canonical JSON")
    pdf_sha = models.CharField(max_length=64, blank=True)
    pdf_name = models.CharField(max_length=200, blank=True)
    ofd_sha = models.CharField(max_length=64, blank=True)
    ofd_name = models.CharField(max_length=200, blank=True)
    shown_fields = models.JSONField(
        null=True,
        blank=True,
        help_text="face field names the holder shows on public verification; null = default",
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "serial", "version"], name="licence_serial_version_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "valid_until"], name="licence_status_idx")]

    def __str__(self) -> str:
        return self.identifier

    def current_status(self, today: dt.date | None = None) -> str:
        """The status today: a valid licence past its last day is expired even before the
        daily ``expire_due`` has marked it."""
        if (
            self.status == self.Status.VALID
            and self.valid_until
            and self.valid_until < (today or timezone.localdate())
        ):
            return self.Status.EXPIRED
        return self.status


class ItemLicenceType(models.Model):
    """The licence type a catalogue item's 出证办结 issues (linked by the type's code)."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="licence_binding")
    licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="items")
    bound_by = models.CharField(max_length=128, blank=True)
    bound_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.item_id} → {self.licence_type_id}"


class LicenceGrant(models.Model):
    """用证授权: the holder lets one department read one licence, for one case or a purpose."""

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="grants")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="licence_grants"
    )
    fields = models.JSONField(
        default=list, blank=True, help_text="face field names the department may read; [] = all"
    )
    purpose = models.CharField(max_length=200)
    granted_by = models.CharField(max_length=128, help_text="account id of the holder (or agent)")
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    reads = models.PositiveIntegerField(default=0)
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["department", "licence"], name="licence_grant_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.licence_id} → {self.department_id}"
