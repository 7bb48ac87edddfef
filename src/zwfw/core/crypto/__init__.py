"""National cryptography (SM2, SM3, SM4) behind one small interface.

SM3 and SM4 come from ``cryptography`` (OpenSSL). SM2 is not in ``cryptography``: it goes
through the system OpenSSL 3 libcrypto, with a pure-Python fallback (see ``sm2.py``).
"""

from zwfw.core.crypto._symmetric import (
    CryptoError,
    constant_time_equal,
    sm3,
    sm3_hex,
    sm3_hmac,
    sm4_cbc_decrypt,
    sm4_cbc_encrypt,
    sm4_ecb_encrypt_block,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)
from zwfw.core.crypto.sm2 import (
    DEFAULT_SM2_UID,
    sm2_backend,
    sm2_ciphertext_from_raw,
    sm2_ciphertext_to_raw,
    sm2_decrypt,
    sm2_encrypt,
    sm2_generate_key,
    sm2_private_pem_from_scalar,
    sm2_public_from_private,
    sm2_public_pem_from_point,
    sm2_public_point,
    sm2_sign,
    sm2_signature_from_raw,
    sm2_signature_to_raw,
    sm2_verify,
)

__all__ = [
    "DEFAULT_SM2_UID",
    "CryptoError",
    "constant_time_equal",
    "sm2_backend",
    "sm2_ciphertext_from_raw",
    "sm2_ciphertext_to_raw",
    "sm2_decrypt",
    "sm2_encrypt",
    "sm2_generate_key",
    "sm2_private_pem_from_scalar",
    "sm2_public_from_private",
    "sm2_public_pem_from_point",
    "sm2_public_point",
    "sm2_sign",
    "sm2_signature_from_raw",
    "sm2_signature_to_raw",
    "sm2_verify",
    "sm3",
    "sm3_hex",
    "sm3_hmac",
    "sm4_cbc_decrypt",
    "sm4_cbc_encrypt",
    "sm4_ecb_encrypt_block",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]
