"""Catalogue API routes (see the module's owner work: import)."""

from ninja import Router

router = Router(tags=["catalog"])
