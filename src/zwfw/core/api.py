"""Kernel endpoints: node information and the code tables of SPEC §3.1 (public data)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema

from zwfw import __version__
from zwfw.core import codes
from zwfw.core.errors import NotFound

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


class CodeTableSummary(Schema):
    name: str
    title: str
    title_en: str
    size: int


class CodeItem(Schema):
    code: str
    label: str


class CodeTableOut(Schema):
    name: str
    title: str
    title_en: str
    items: list[CodeItem]


@router.get("/codes", response=list[CodeTableSummary], tags=["codes"], summary="Code tables")
def list_code_tables(request: HttpRequest) -> list[dict]:
    return [
        {
            "name": name,
            "title": codes.table_name(cls)[0],
            "title_en": codes.table_name(cls)[1],
            "size": len(cls.choices),
        }
        for name, cls in sorted(codes.tables().items())
    ]


@router.get("/codes/{name}", response=CodeTableOut, tags=["codes"], summary="One code table")
def get_code_table(request: HttpRequest, name: str) -> dict:
    cls = codes.tables().get(name)
    if cls is None:
        raise NotFound(
            "codes.unknown_table",
            f"代码表{name}不存在。",
            f"No code table named {name}.",
            details={"available": sorted(codes.tables())},
        )
    zh, en = codes.table_name(cls)
    return {
        "name": name,
        "title": zh,
        "title_en": en,
        "items": [{"code": str(value), "label": str(label)} for value, label in cls.choices],
    }
