"""Search index maintenance for catalogue items (full implementation: see the search module).

``index_items`` is called inside the publishing transaction so that the index never disagrees
with the published versions.
"""

from __future__ import annotations

from collections.abc import Iterable

from zwfw.catalog.models import Item


def index_items(items: Iterable[Item]) -> None:
    """(Re)build the search entries of ``items`` from their current versions."""
    # Filled in by the search work (FTS5 / PostgreSQL full-text); publishing already calls it.
    return None
