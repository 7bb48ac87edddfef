"""API routes of zwfw.indicators (registered in zwfw.api.main)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["indicators"])
