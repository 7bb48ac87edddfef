"""The node's certificate authorities and the departments' electronic seals (GB/T 38540).

Private keys are PEM text in :class:`~zwfw.core.pii.EncryptedTextField` (SM4-GCM at rest).
"""

from __future__ import annotations

from django.db import models

from zwfw.core.pii import EncryptedTextField
from zwfw.organisations.models import Department


class NodeAuthority(models.Model):
    """The node's SM2 CA (it certifies seal keys) and its ECDSA PAdES signing identity."""

    name = models.CharField(max_length=200)
    ca_cert_der = models.BinaryField()
    ca_private_pem = EncryptedTextField()
    maker_cert_der = models.BinaryField(help_text="制章者: the node's seal maker certificate")
    maker_private_pem = EncryptedTextField()
    pdf_key_pem = EncryptedTextField()
    pdf_cert_pem = models.TextField()
    pdf_ca_cert_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Seal(models.Model):
    """An electronic seal of a department with its SM2 key pair and certificate."""

    class Kind(models.IntegerChoices):
        OFFICIAL = 1, "单位公章"
        PERSONAL = 2, "个人印章"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="seals")
    seal_type = models.PositiveSmallIntegerField(choices=Kind.choices, default=Kind.OFFICIAL)
    name = models.CharField(max_length=200)
    es_id = models.CharField(max_length=64, unique=True)
    picture_png = models.BinaryField()
    private_pem = EncryptedTextField()
    cert_der = models.BinaryField()
    seal_der = models.BinaryField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["department", "seal_type"], name="seal_department_idx")]

    def __str__(self) -> str:
        return self.name
