"""URLs for the API tests: the node's own, plus the dataset router (``cases.api_dataset``)
on a test API instance in front of them while it is not yet mounted on ``zwfw.api.main``."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

from zwfw.api import errors
from zwfw.api.main import Utf8JSONRenderer, api
from zwfw.cases.api_dataset import router
from zwfw.urls import urlpatterns as node_patterns


def _mounted() -> bool:
    return any(mounted is router for _prefix, mounted, *_rest in api._routers)


urlpatterns: list[Any] = list(node_patterns)
if not _mounted():
    from django.urls import path

    dataset_api = NinjaAPI(
        renderer=Utf8JSONRenderer(), urls_namespace="api-v1-dataset-test", docs_url=None
    )
    errors.install(dataset_api)
    dataset_api.add_router("/", router)
    urlpatterns.insert(0, path("api/v1/", dataset_api.urls))
