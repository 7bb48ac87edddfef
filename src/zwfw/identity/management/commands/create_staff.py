"""``zwfw create_staff USERNAME --name 张敏 --department 3 --role clerk [--role reviewer]``.

Creates a staff account in a department with roles (through the same service as the API)
and prints its random first password once; it must be changed at first sign-in.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zwfw.core import context
from zwfw.core.errors import ZwfwError
from zwfw.identity import services
from zwfw.organisations.models import Department, Role


class Command(BaseCommand):
    help = "Create a staff account in a department with roles; prints the first password once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="real name (姓名)")
        parser.add_argument("--department", required=True, help="department id or exact name")
        parser.add_argument(
            "--role", action="append", required=True, choices=list(Role.values), dest="roles"
        )
        parser.add_argument("--phone", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        key = str(options["department"])
        department = (
            Department.objects.filter(pk=int(key)).first()
            if key.isdigit()
            else Department.objects.filter(name=key).first()
        )
        if department is None:
            raise CommandError(f"no department {key!r}")
        try:
            with context.bind(actor="system:create_staff"):
                created = services.create_staff(
                    None,
                    username=options["username"],
                    real_name=options["name"],
                    department=department,
                    roles=options["roles"],
                    phone=options["phone"],
                )
        except ZwfwError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(
            f"created {created.user.username} in {department.name} "
            f"({', '.join(sorted(options['roles']))}); first password: {created.initial_password}"
        )
