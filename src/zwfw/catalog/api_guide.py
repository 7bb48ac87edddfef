"""Catalogue API routes (see the module's owner work: guide)."""

from ninja import Router

router = Router(tags=["catalog"])
