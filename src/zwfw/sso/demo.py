"""Demo OIDC clients: the 人社局 business system of journey J8 (client credentials)."""

from __future__ import annotations

from oauth2_provider.models import get_application_model

from zwfw.sso import services

J8_CLIENT_ID = "ga-hrss-business"
# Documented in the README; demo data only (make run), never in production settings.
J8_CLIENT_SECRET = "zcs_demo-ga-hrss-business-not-for-production"  # noqa: S105


def load_demo_clients() -> int:
    """Create the demo clients that do not exist yet; returns how many were created."""
    if get_application_model().objects.filter(client_id=J8_CLIENT_ID).exists():
        return 0
    services.create_client(
        name="广安市人力资源和社会保障局业务系统",
        confidential=True,
        grant=services.GRANT_CLIENT_CREDENTIALS,
        scopes=["registry.population.verify"],
        client_id=J8_CLIENT_ID,
        client_secret=J8_CLIENT_SECRET,
    )
    return 1
