"""Settings shared by every environment; values come from environment variables (see env.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

from zwfw.settings.env import declare

SRC_DIR = Path(__file__).resolve().parents[2]
# In a source checkout the repository root holds pyproject.toml; elsewhere use the cwd.
_REPO_DIR = SRC_DIR.parent
_DEFAULT_VAR = _REPO_DIR / "var" if (_REPO_DIR / "pyproject.toml").exists() else Path.cwd() / "var"

VAR_DIR = Path(
    declare(
        "ZWFW_VAR_DIR",
        str,
        str(_DEFAULT_VAR),
        "Directory for the embedded database, uploaded files and other state.",
        shown_default="<repository>/var",
    )
)
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = declare(
    "SECRET_KEY",
    str,
    "",
    "Django secret key (sessions, signed tokens). Required in production.",
)
DEBUG = declare("DEBUG", bool, False, "Django debug mode. Never on in production.")
ALLOWED_HOSTS = declare(
    "ALLOWED_HOSTS", list, ["127.0.0.1", "localhost"], "Comma-separated host names served."
)
CSRF_TRUSTED_ORIGINS = declare(
    "CSRF_TRUSTED_ORIGINS", list, [], "Comma-separated origins trusted for CSRF (https://…)."
)

DATABASE_URL = declare(
    "DATABASE_URL",
    str,
    f"sqlite:///{VAR_DIR / 'zwfw.sqlite3'}",
    "Database: `sqlite:///absolute/path.db` (embedded, WAL mode) or `postgres://user@host/db`.",
    shown_default="sqlite:///<ZWFW_VAR_DIR>/zwfw.sqlite3",
)
DB_CONN_MAX_AGE = declare(
    "DB_CONN_MAX_AGE", int, 60, "Seconds a PostgreSQL connection is kept open between requests."
)


def database_config(url: str) -> dict[str, Any]:
    """Translate a DATABASE_URL into Django's DATABASES entry."""
    if url.startswith("sqlite"):
        config: dict[str, Any] = dict(dj_database_url.parse(url))
        config["OPTIONS"] = {
            # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock at
            # the start of a transaction so that concurrent writers wait instead of failing
            # with "database is locked" half-way through.
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=5000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        return config
    config = dict(dj_database_url.parse(url, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True))
    config["ENGINE"] = "django.db.backends.postgresql"
    return config


DATABASES = {"default": database_config(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- node identity -------------------------------------------------------------------------
NODE_NAME = declare("ZWFW_NODE_NAME", str, "示例市政务服务平台", "Display name of this node.")
NODE_LEVEL = declare(
    "ZWFW_NODE_LEVEL",
    str,
    "municipal",
    "Level of this node: `national` (国家), `provincial` (省) or `municipal` (市).",
)
NODE_DIVISION_CODE = declare(
    "ZWFW_NODE_DIVISION",
    str,
    "511600",
    "GB/T 2260 division code of the node (6 digits); it prefixes case numbers.",
)

# --- personal data protection --------------------------------------------------------------
PII_KEY = declare(
    "ZWFW_PII_KEY",
    str,
    "",
    "Master key for personal data at rest: 64 hex characters (32 bytes). Required in production.",
)

# --- applications --------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "zwfw.core",
    "zwfw.identity",
    # zwfw.sso first: its templates override the toolkit's (consent and logout pages).
    "zwfw.sso",
    "oauth2_provider",
    "zwfw.organisations",
    "zwfw.notifications",
    "zwfw.catalog",
    "zwfw.registries",
    "zwfw.cases",
    "zwfw.signing",
    "zwfw.licences",
    "zwfw.supervision",
    "zwfw.ratings",
    "zwfw.indicators",
    "zwfw.portal",
    "zwfw.workbench",
]

MIDDLEWARE = [
    "zwfw.core.middleware.RequestContextMiddleware",
    "zwfw.core.middleware.ApiErrorShapeMiddleware",
    "zwfw.core.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "zwfw.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "zwfw.identity.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "zwfw.portal.middleware.ContentSecurityPolicyMiddleware",
]

AUTH_USER_MODEL = "identity.User"
ROOT_URLCONF = "zwfw.urls"
WSGI_APPLICATION = "zwfw.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "zwfw" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "zwfw.core.context_processors.node",
            ],
        },
    },
]

# Password rules with Chinese messages (zwfw.identity.passwords); argon2id with the
# parameters of decision 0012 (zwfw.identity.hashers).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"zwfw.identity.passwords.{name}"}
    for name in ("LengthValidator", "CharacterKindsValidator", "PersonalDataValidator")
] + [{"NAME": "zwfw.identity.passwords.CommonValidator"}]
AUTHENTICATION_BACKENDS = ["zwfw.identity.backends.AccountBackend"]
LOGIN_URL = "/accounts/login/"
PASSWORD_HASHERS = [
    "zwfw.identity.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # OAuth client secrets only (last, so never used for passwords): see zwfw/sso/hashers.py.
    "zwfw.sso.hashers.ClientSecretHasher",
]

# --- language and time ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [SRC_DIR / "zwfw" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and media ----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing directory
# Front-end packages come from the npm registry (package.json at the repository root, installed
# by `make setup` into node_modules/); only their built files are served, under static/vendor/.
_NODE_MODULES = _REPO_DIR / "node_modules"
STATICFILES_DIRS = [
    (f"vendor/{name}", _NODE_MODULES / name / dist)
    for name, dist in (("echarts", "dist"), ("htmx.org", "dist"), ("axe-core", ""))
    if (_NODE_MODULES / name / dist).is_dir()
]
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- background tasks ----------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- e-mail (the notifications outbox's e-mail channel) ------------------------------------
EMAIL_HOST = declare("EMAIL_HOST", str, "localhost", "SMTP server for outgoing e-mail.")
EMAIL_PORT = declare("EMAIL_PORT", int, 25, "SMTP port.")
EMAIL_HOST_USER = declare("EMAIL_HOST_USER", str, "", "SMTP user name (empty: no login).")
EMAIL_HOST_PASSWORD = declare("EMAIL_HOST_PASSWORD", str, "", "SMTP password.")
EMAIL_USE_TLS = declare("EMAIL_USE_TLS", bool, False, "Use STARTTLS for SMTP.")
DEFAULT_FROM_EMAIL = declare(
    "DEFAULT_FROM_EMAIL", str, "zwfw@localhost", "Sender address of platform e-mail."
)
NOTIFY_CHANNELS = declare(
    "ZWFW_NOTIFY_CHANNELS",
    str,
    "sms=sandbox,email=sandbox,site=site",
    "Provider per notification channel, e.g. `sms=sandbox,email=smtp,site=site`.",
)

# --- security headers ----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

CATALOG_REVIEW_STEPS = declare(
    "ZWFW_CATALOG_REVIEW_STEPS",
    str,
    "staffing:编制审核,legal:法制审核",
    "Review steps of catalogue changes, `code:name` joined by commas (empty: no review).",
)

# --- case handling (zwfw.cases) ------------------------------------------------------------
CASE_NEARING_PERCENT = declare(
    "ZWFW_CASE_NEARING_PERCENT",
    int,
    80,
    "Share of a case's time limit used (percent) from which it counts as nearing (临近超期).",
)
CASE_UPLOAD_MAX_BYTES = declare(
    "ZWFW_CASE_UPLOAD_MAX_BYTES",
    int,
    20 * 1024 * 1024,
    "Largest material file accepted, in bytes.",
)
CASE_UPLOAD_TYPES = declare(
    "ZWFW_CASE_UPLOAD_TYPES",
    str,
    "application/pdf,image/jpeg,image/png,application/ofd",
    "Material file types accepted (detected from the content, not the name), joined by commas.",
)
CASE_VIRUS_SCANNER = declare(
    "ZWFW_CASE_VIRUS_SCANNER",
    str,
    "",
    "Virus scanner for uploads: empty (signature check only, EICAR refused) or `clamd:HOST:PORT`.",
)
FILE_DIR = VAR_DIR / "files"
PUBLIC_URL = declare(
    "ZWFW_PUBLIC_URL",
    str,
    "http://127.0.0.1:8000",
    "Public address of the portal, for links printed on notices and in QR codes.",
)

# --- single sign-on: OpenID Connect provider (zwfw.sso, django-oauth-toolkit) ---------------
OIDC_RSA_KEY = declare(
    "ZWFW_OIDC_RSA_KEY",
    str,
    "",
    "RSA private key (PEM text, or the path of a PEM file) that signs ID tokens (RS256). "
    "Required in production; development and tests create `<ZWFW_VAR_DIR>/oidc-rsa.pem` once.",
)
OIDC_ISSUER = declare(
    "ZWFW_OIDC_ISSUER",
    str,
    "",
    "Issuer URL of this node's OpenID Connect provider, e.g. `https://zwfw.example.gov.cn` "
    "(empty: taken from the request's host; set it behind a proxy).",
)
OIDC_ACCESS_TOKEN_SECONDS = declare(
    "ZWFW_OIDC_ACCESS_TOKEN_SECONDS", int, 3600, "Lifetime of OAuth access tokens, in seconds."
)
OIDC_ID_TOKEN_SECONDS = declare(
    "ZWFW_OIDC_ID_TOKEN_SECONDS", int, 3600, "Lifetime of OpenID Connect ID tokens, in seconds."
)
OIDC_REFRESH_TOKEN_SECONDS = declare(
    "ZWFW_OIDC_REFRESH_TOKEN_SECONDS",
    int,
    14 * 24 * 3600,
    "Refresh tokens die this many seconds after their access token expires (rotated on use).",
)


def oauth2_provider_settings(signing_key: str) -> dict[str, Any]:
    """django-oauth-toolkit's settings; dev/test/prod call it with their signing key."""
    return {
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": signing_key,
        "OIDC_ISS_ENDPOINT": OIDC_ISSUER.rstrip("/"),
        "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OAUTH2_GRANT_TYPES_SUPPORTED": [
            "authorization_code",
            "client_credentials",
            "refresh_token",
        ],
        "OAUTH2_VALIDATOR_CLASS": "zwfw.sso.validators.ZwfwOAuth2Validator",
        "OAUTH2_BACKEND_CLASS": "zwfw.sso.backends.ZwfwOAuthLibCore",
        "SCOPES_BACKEND_CLASS": "zwfw.sso.scopes.ZwfwScopes",
        # The toolkit insists on a non-empty SCOPES; the real list is zwfw.sso.scopes.
        "SCOPES": {"openid": "openid"},
        "APPLICATION_ADMIN_CLASS": "zwfw.sso.admin_clients.ClientAdmin",
        "CLIENT_SECRET_HASHER": "zwfw_client_sm3",
        "ACCESS_TOKEN_EXPIRE_SECONDS": OIDC_ACCESS_TOKEN_SECONDS,
        "ID_TOKEN_EXPIRE_SECONDS": OIDC_ID_TOKEN_SECONDS,
        "REFRESH_TOKEN_EXPIRE_SECONDS": OIDC_REFRESH_TOKEN_SECONDS,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "REQUEST_APPROVAL_PROMPT": "auto",
        # PKCE: required for public clients (the validator decides per client, see
        # ZwfwOAuth2Validator.is_pkce_required); only S256.
        "PKCE_REQUIRED": True,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
        # RFC 9700 (OAuth 2.0 Security BCP): enforce every recommendation now.
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
        "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    }


OAUTH2_PROVIDER = oauth2_provider_settings("")

LOG_LEVEL = declare("LOG_LEVEL", str, "INFO", "Log level: DEBUG, INFO, WARNING, ERROR.")
LOG_JSON = declare("ZWFW_LOG_JSON", bool, True, "Write logs as JSON lines (one object a line).")
CRYPTO_BACKEND = declare(
    "ZWFW_CRYPTO_BACKEND",
    str,
    "auto",
    "SM2 implementation: `auto` (system OpenSSL libcrypto, else pure Python), `openssl`, `python`.",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": "zwfw.core.logging.StructuredFormatter",
            "json": LOG_JSON,
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "structured"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- ratings (好差评, SPEC §8; decision 0020) -----------------------------------------------------
RATINGS_RECTIFICATION_DAYS = declare(
    "ZWFW_RATINGS_RECTIFICATION_DAYS",
    int,
    5,
    "Working days a department has to verify and answer a bad rating (好差评整改期限; 5–15).",
)
RATINGS_TOKEN_DAYS = declare(
    "ZWFW_RATINGS_TOKEN_DAYS",
    int,
    30,
    "Days a rating QR code (single-use token) stays valid.",
)

# --- indicators (评估指标, SPEC §8; decision 0021) ------------------------------------------------
INDICATORS_ROLLUP_MAX_AGE = declare(
    "ZWFW_INDICATORS_ROLLUP_MAX_AGE",
    int,
    300,
    "Seconds the per-day indicator rollups may age before a dashboard or indicators read "
    "refreshes the recent days.",
)
INDICATORS_ROLLUP_LOOKBACK_DAYS = declare(
    "ZWFW_INDICATORS_ROLLUP_LOOKBACK_DAYS",
    int,
    31,
    "Days before the last refresh that each incremental rollup refresh recomputes (ratings "
    "excluded later by an upheld appeal).",
)
INDICATORS_WARNING_CEILING = declare(
    "ZWFW_INDICATORS_WARNING_CEILING",
    int,
    100,
    "Warnings per 1,000 cases at which the indicator 每千件预警数 scores 0 (0 warnings score 100).",
)

# --- electronic supervision (zwfw.supervision) -------------------------------------------------
SUPERVISION_NEARING_PERCENT = declare(
    "ZWFW_SUPERVISION_NEARING_PERCENT",
    int,
    80,
    "Share of a case's time limit used (percent) from which rule R02 raises a yellow warning "
    "(a node admin may override it per rule).",
)
SUPERVISION_MAX_PAUSE_DAYS = declare(
    "ZWFW_SUPERVISION_MAX_PAUSE_DAYS",
    int,
    60,
    "Calendar days a case's clock may stay paused before rule R06 warns.",
)
SUPERVISION_LOOKBACK_DAYS = declare(
    "ZWFW_SUPERVISION_LOOKBACK_DAYS",
    int,
    30,
    "Days back a full supervision pass re-reads closed cases (rules on finished cases).",
)
SUPERVISION_ORDER_DAYS = declare(
    "ZWFW_SUPERVISION_ORDER_DAYS",
    int,
    2,
    "Reply deadline of a 督办 order issued by hand, in working days.",
)
