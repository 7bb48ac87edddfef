"""Production: every secret must come from the environment; HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from zwfw.settings.base import *  # noqa: F403
from zwfw.settings.base import OIDC_RSA_KEY, PII_KEY, SECRET_KEY, oauth2_provider_settings
from zwfw.sso.keys import load_signing_key

if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production")
if len(PII_KEY) != 64:
    raise ImproperlyConfigured("ZWFW_PII_KEY must be 64 hex characters in production")

if not OIDC_RSA_KEY:
    raise ImproperlyConfigured("ZWFW_OIDC_RSA_KEY must be set in production (ID token signing)")
OAUTH2_PROVIDER = oauth2_provider_settings(load_signing_key(OIDC_RSA_KEY))
OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"] = ["https"]

DEBUG = False
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
