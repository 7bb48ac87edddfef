"""``zwfw load_demo``: the demo node's data (idempotent; `make run` calls it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zwfw.core.demo import DEMO_PASSWORD, USERS, load_demo


class Command(BaseCommand):
    help = "Load demo data: divisions, holiday calendar, departments, staff accounts, catalogue."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = load_demo()
        self.stdout.write(
            "demo data loaded: " + ", ".join(f"{name} +{count}" for name, count in counts.items())
        )
        from zwfw.cases.demo import STAFF

        usernames = [user.username for user in USERS]
        usernames += [name for name, _full, _grants in STAFF if name not in usernames]
        from zwfw.workbench.demo import STAFF as WORKBENCH_STAFF

        usernames += [entry[0] for entry in WORKBENCH_STAFF if entry[0] not in usernames]
        accounts = ", ".join(usernames)
        self.stdout.write(f"demo staff accounts: {accounts} (password {DEMO_PASSWORD})")
