"""Local development and the `make run` demo: debug on, fixed insecure keys."""

from zwfw.settings.base import *  # noqa: F403
from zwfw.settings.base import PII_KEY, SECRET_KEY

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-insecure-secret-key-do-not-use-in-production"
# A fixed key so that the demo database stays readable across restarts; never used in prod.
PII_KEY = PII_KEY or "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
