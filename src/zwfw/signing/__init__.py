"""Seals and certificates (SPEC §9): the node's SM2 certificate authority (``x509``) and
GB/T 38540-2020 electronic seals and seal signatures (``ses``). Pure library code: no models.

See docs/decisions/0016-seals-and-certificates.md.
"""

from zwfw.signing.ses import (
    Failure,
    SealCheck,
    SealError,
    SignatureCheck,
    make_seal,
    sign_data,
    verify_seal,
    verify_signature,
)
from zwfw.signing.x509 import (
    CertificateError,
    CertificateInfo,
    certificate_info,
    der_from_pem,
    issue_certificate,
    make_ca,
    pem_from_der,
    public_pem_of,
    verify_certificate,
)

__all__ = [
    "CertificateError",
    "CertificateInfo",
    "Failure",
    "SealCheck",
    "SealError",
    "SignatureCheck",
    "certificate_info",
    "der_from_pem",
    "issue_certificate",
    "make_ca",
    "make_seal",
    "pem_from_der",
    "public_pem_of",
    "sign_data",
    "verify_certificate",
    "verify_seal",
    "verify_signature",
]
