"""``zwfw create_registry_consumer --name N [--client-id ID] --grant registry:mode:fields …``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from zwfw.core import context
from zwfw.core.errors import ZwfwError
from zwfw.organisations.models import Department
from zwfw.registries import services


class Command(BaseCommand):
    help = (
        "Register a consumer of the base registries with its grants and print its API key once, "
        "as the last line. A grant is registry:mode:field,field… (e.g. "
        "population:verify:name,id_number); append :unmasked to a query grant to return clear "
        "values."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="the consumer's name")
        parser.add_argument("--client-id", help="OIDC client id of the consumer's system")
        parser.add_argument("--department", help="name of the consumer's department")
        parser.add_argument(
            "--grant", action="append", default=[], help="registry:mode:fields[:unmasked]"
        )
        parser.add_argument("--no-api-key", action="store_true", help="OIDC only: issue no API key")

    def handle(self, *args: Any, **options: Any) -> None:
        grants = [self._parse(text) for text in options["grant"]]
        department_id = None
        if options["department"]:
            department = Department.objects.filter(name=options["department"]).first()
            if department is None:
                raise CommandError(f"没有名为“{options['department']}”的部门 no such department")
            department_id = department.pk
        try:
            with context.bind(actor="system:create_registry_consumer"), transaction.atomic():
                consumer, key = services.create_consumer(
                    name=options["name"],
                    client_id=options["client_id"],
                    department_id=department_id,
                    with_api_key=not options["no_api_key"],
                )
                for registry, mode, fields, unmasked in grants:
                    services.grant_scope(
                        consumer=consumer,
                        registry=registry,
                        mode=mode,
                        fields=fields,
                        unmasked=unmasked,
                    )
        except ZwfwError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        self.stdout.write(f"consumer {consumer.pk} “{consumer.name}” with {len(grants)} grant(s)")
        if key:
            self.stdout.write("API key (shown once; store it in the consumer system's secrets):")
            self.stdout.write(key)

    @staticmethod
    def _parse(text: str) -> tuple[str, str, list[str], bool]:
        parts = text.split(":")
        unmasked = len(parts) == 4 and parts[3] == "unmasked"
        if len(parts) not in (3, 4) or (len(parts) == 4 and not unmasked):
            raise CommandError(f"grant “{text}”: expected registry:mode:field,field[:unmasked]")
        fields = [name.strip() for name in parts[2].split(",") if name.strip()]
        return parts[0].strip(), parts[1].strip(), fields, unmasked
