"""Project-wide test fixtures."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _migration_data_for_transactional_tests(request: Any) -> None:
    """Transactional tests start after another one's flush: give them the migration rows."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from zwfw.core.testing import reseed_migration_data

    reseed_migration_data()
