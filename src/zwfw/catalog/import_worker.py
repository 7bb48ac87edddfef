"""Entry points of the worker processes that validate import rows (see ``importing``).

Kept apart from :mod:`zwfw.catalog.importing` because a freshly started (``spawn``) worker
must set Django up before anything imports models; this module imports nothing of Django's
at import time, and receives the column binding as plain data for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_reader: Any = None


def start(binding: dict[str, Any]) -> None:
    """Worker initialiser: set Django up and build the row reader."""
    import django

    django.setup()
    from zwfw.catalog.importing import Binding, RowReader

    global _reader  # noqa: PLW0603 (one reader per worker process)
    _reader = RowReader(Binding(**binding))


def read(rows: Sequence[tuple[int, list[str]]]) -> list[Any]:
    """Read and validate one batch of rows (``PreparedRow`` or a list of ``RowError`` each)."""
    return [_reader.read(number, cells) for number, cells in rows]
