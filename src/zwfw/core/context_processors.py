from django.conf import settings
from django.http import HttpRequest


def node(request: HttpRequest) -> dict[str, str]:
    return {
        "node_name": settings.NODE_NAME,
        "node_level": settings.NODE_LEVEL,
        "node_division": settings.NODE_DIVISION_CODE,
    }
