"""The API instance: ``/api/v1/``. Each app contributes a router in its ``api.py``."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from zwfw import __version__
from zwfw.api import errors


class Utf8JSONRenderer(JSONRenderer):
    """Chinese text as UTF-8 rather than \\u escapes: a third of the bytes, readable in logs."""

    json_dumps_params: dict[str, Any] = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Utf8JSONRenderer(),
    title="zwfw 一体化在线政务服务平台 API",
    version=__version__,
    description=(
        "Errors share one shape: `{code, message, message_en, details, request_id}`. "
        "`code` is stable for machines; `message` is Chinese for people."
    ),
    urls_namespace="api-v1",
)
errors.install(api)


def _register_routers() -> None:
    from zwfw.cases.api import router as cases_router
    from zwfw.catalog import api_guide, api_import, api_search
    from zwfw.catalog.api import router as catalog_router
    from zwfw.core.api import router as core_router
    from zwfw.identity.api import router as identity_router
    from zwfw.licences.api import router as licences_router
    from zwfw.organisations.api import router as organisations_router
    from zwfw.registries.api import router as registries_router

    api.add_router("/", core_router)
    api.add_router("/", organisations_router)
    api.add_router("/catalog", api_search.router)
    api.add_router("/catalog", api_guide.router)
    api.add_router("/catalog", api_import.router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/identity", identity_router)
    api.add_router("/registries", registries_router)
    api.add_router("/", cases_router)
    api.add_router("/", "zwfw.cases.api_dataset.router")
    api.add_router("/", licences_router)
    api.add_router("/", "zwfw.licences.api_library.router")
    api.add_router("/supervision", "zwfw.supervision.api.router")
    api.add_router("/", "zwfw.ratings.api.router")
    api.add_router("/indicators", "zwfw.indicators.api.router")


_register_routers()
