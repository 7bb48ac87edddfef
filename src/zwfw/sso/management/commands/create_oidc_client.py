"""``zwfw create_oidc_client``: register an OAuth/OIDC client; its credentials are the last line.

Examples::

    zwfw create_oidc_client --name 人社局业务系统 --redirect-uri https://rs.example/callback \\
        --confidential --scopes openid profile zwfw.realname
    zwfw create_oidc_client --name 人社局核验接口 --grant client-credentials --confidential \\
        --scopes registry.population.verify

The last line is JSON: ``{"client_id": …, "client_secret": …}`` (the secret is shown only
now; it is empty for public clients).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zwfw.core import context
from zwfw.core.errors import ZwfwError
from zwfw.sso import services


class Command(BaseCommand):
    help = "Register an OAuth/OIDC client; prints its client_id and client_secret as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
        parser.add_argument(
            "--post-logout-redirect-uri",
            action="append",
            default=[],
            dest="post_logout_redirect_uris",
        )
        parser.add_argument("--confidential", action="store_true")
        parser.add_argument("--scopes", nargs="+", default=[])
        parser.add_argument(
            "--grant", choices=list(services.GRANTS), default=services.GRANT_AUTHORIZATION_CODE
        )
        parser.add_argument(
            "--skip-authorization",
            action="store_true",
            help="no consent page (for the node's own trusted systems)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scopes = [part for value in options["scopes"] for part in value.split()]
        with context.bind(actor="cli:create_oidc_client"):
            try:
                created = services.create_client(
                    name=options["name"],
                    redirect_uris=options["redirect_uris"],
                    post_logout_redirect_uris=options["post_logout_redirect_uris"],
                    confidential=options["confidential"],
                    scopes=scopes,
                    grant=options["grant"],
                    skip_authorization=options["skip_authorization"],
                )
            except ZwfwError as error:
                raise CommandError(f"[{error.code}] {error.message}") from None
        self.stdout.write(
            f"client {created.application.name!r} registered "
            f"({created.application.client_type}, {created.application.authorization_grant_type})"
        )
        self.stdout.write(
            json.dumps({"client_id": created.client_id, "client_secret": created.client_secret})
        )
