"""Test settings: SQLite unless DATABASE_URL says otherwise, fast hashing, tasks run inline."""

from zwfw.settings.base import *  # noqa: F403
from zwfw.settings.base import (
    OIDC_RSA_KEY,
    PII_KEY,
    SECRET_KEY,
    VAR_DIR,
    oauth2_provider_settings,
)
from zwfw.sso.keys import dev_signing_key, load_signing_key

SECRET_KEY = SECRET_KEY or "test-secret-key"
PII_KEY = PII_KEY or "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "zwfw.sso.hashers.ClientSecretHasher",
]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOG_JSON = False
OAUTH2_PROVIDER = oauth2_provider_settings(
    load_signing_key(OIDC_RSA_KEY) if OIDC_RSA_KEY else dev_signing_key(VAR_DIR)
)
