"""Demo data of the workbench: the second catalogue reviewer J6 needs.

Catalogue changes pass two review steps (编制审核, 法制审核) and a reviewer may take only one
step of a request, so the demo node needs two catalogue reviewers: 王磊 (``catalog_reviewer``,
from ``zwfw.core.demo``) and 孙红 (``legal_reviewer``, here). Loading twice changes nothing.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from zwfw.organisations import services as organisations
from zwfw.organisations.models import Department, Role

#: (username, full name, department, role)
STAFF = [("legal_reviewer", "孙红", "广安市司法局", Role.CATALOG_REVIEWER)]
FALLBACK_DEPARTMENT = "广安市政务服务管理局"


@transaction.atomic
def load_demo() -> dict[str, int]:
    from zwfw.core.demo import DEMO_PASSWORD

    users = get_user_model()
    created = 0
    for username, full_name, department_name, role in STAFF:
        department = (
            Department.objects.filter(name=department_name).first()
            or Department.objects.filter(name=FALLBACK_DEPARTMENT).first()
        )
        if department is None:
            continue
        user = users.objects.filter(username=username).first()
        if user is None:
            user = users.objects.create_user(
                username,
                password=DEMO_PASSWORD,
                real_name=full_name,
                kind="staff",
                is_staff=True,
            )
            created += 1
        organisations.grant_role(user=user, department=department, role=role)
    return {"workbench_staff": created}
