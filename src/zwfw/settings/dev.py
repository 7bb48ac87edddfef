"""Local development and the `make run` demo: debug on, fixed insecure keys."""

from zwfw.settings.base import *  # noqa: F403
from zwfw.settings.base import (
    OIDC_RSA_KEY,
    PII_KEY,
    SECRET_KEY,
    VAR_DIR,
    oauth2_provider_settings,
)
from zwfw.sso.keys import dev_signing_key, load_signing_key

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-insecure-secret-key-do-not-use-in-production"
# A fixed key so that the demo database stays readable across restarts; never used in prod.
PII_KEY = PII_KEY or "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
# ID tokens: the configured key, else one created once in the var directory.
OAUTH2_PROVIDER = oauth2_provider_settings(
    load_signing_key(OIDC_RSA_KEY) if OIDC_RSA_KEY else dev_signing_key(VAR_DIR)
)
