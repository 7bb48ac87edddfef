from __future__ import annotations

import pytest
from django.db import connections


@pytest.fixture(autouse=True)
def _close_db_after_each_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live server answers on threads kept alive between requests; with persistent
    database connections they would still hold PostgreSQL sessions when the test database
    is dropped. Closing after each request (as CONN_MAX_AGE=0 does) avoids that."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
