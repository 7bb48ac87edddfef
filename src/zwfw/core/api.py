"""Kernel endpoints: node information and reference code tables."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema

from zwfw import __version__

router = Router(tags=["node"])


class NodeOut(Schema):
    name: str
    level: str
    division_code: str
    version: str


@router.get("/node", response=NodeOut, summary="This node's identity")
def node_info(request: HttpRequest) -> dict:
    return {
        "name": settings.NODE_NAME,
        "level": settings.NODE_LEVEL,
        "division_code": settings.NODE_DIVISION_CODE,
        "version": __version__,
    }
