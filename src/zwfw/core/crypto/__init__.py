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

__all__ = [
    "CryptoError",
    "constant_time_equal",
    "sm3",
    "sm3_hex",
    "sm3_hmac",
    "sm4_cbc_decrypt",
    "sm4_cbc_encrypt",
    "sm4_ecb_encrypt_block",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]
