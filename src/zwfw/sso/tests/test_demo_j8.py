"""Journey J8 on the demo data: the 人社局 system gets a token and may only 核验."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from zwfw.core.demo import load_demo
from zwfw.core.models import AuditRecord
from zwfw.registries.demo import JOURNEY_PEOPLE
from zwfw.sso.demo import J8_CLIENT_ID, J8_CLIENT_SECRET

pytestmark = pytest.mark.django_db


def test_j8_department_system_verifies_but_cannot_read(client: Client) -> None:
    load_demo()
    basic = base64.b64encode(f"{J8_CLIENT_ID}:{J8_CLIENT_SECRET}".encode()).decode()
    token = client.post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "scope": "registry.population.verify"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert token.status_code == 200, token.content
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    li_na = JOURNEY_PEOPLE["li_na"]
    answer = client.post(
        "/api/v1/registries/population/verify",
        json.dumps({"key": li_na.id_number, "claims": {"name": li_na.name}}),
        content_type="application/json",
        headers=bearer,
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["result"] is True
    wrong = client.post(
        "/api/v1/registries/population/verify",
        json.dumps({"key": li_na.id_number, "claims": {"name": "李四"}}),
        content_type="application/json",
        headers=bearer,
    )
    assert wrong.json()["result"] is False
    address = client.post(
        "/api/v1/registries/population/query",
        json.dumps({"key": li_na.id_number, "fields": ["household_division"]}),
        content_type="application/json",
        headers=bearer,
    )
    assert address.status_code == 403
    assert li_na.id_number not in address.content.decode()
    actions = list(AuditRecord.objects.values_list("action", flat=True))
    assert actions.count("registries:population:verify") == 2
    assert actions.count("registries:population:query_denied") == 1
