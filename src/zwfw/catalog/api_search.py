"""Catalogue API routes (see the module's owner work: search)."""

from ninja import Router

router = Router(tags=["catalog"])
