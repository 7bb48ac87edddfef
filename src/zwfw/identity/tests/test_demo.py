"""The journey accounts of the demo: created once, signing in with the ID number."""

from __future__ import annotations

import pytest

from zwfw.core.demo import DEMO_PASSWORD
from zwfw.identity import services
from zwfw.identity.demo import load_demo_accounts
from zwfw.identity.models import AgentAuthorisation, Company
from zwfw.identity.tests.conftest import COMPANY, ELDER, LI_NA, WANG, make_request

pytestmark = pytest.mark.usefixtures("registry_data")


def test_demo_accounts_are_loaded_once_and_sign_in() -> None:
    assert load_demo_accounts() == 4
    assert load_demo_accounts() == 0
    li_na = services.user_by_id_number(LI_NA.id_number)
    elder = services.user_by_id_number(ELDER.id_number)
    assert li_na is not None
    assert elder is not None
    assert (li_na.trust_level, elder.trust_level, elder.phone) == ("L3", "L4", "")
    company = Company.objects.get(uscc=COMPANY.uscc)
    authorisation = AgentAuthorisation.objects.get(company=company)
    assert authorisation.agent.real_name == WANG.name
    assert (authorisation.valid_until - authorisation.valid_from).days in (364, 365)
    result = services.login_with_password(make_request(), ELDER.id_number, DEMO_PASSWORD)
    assert (result.status, result.agreement_required) == ("ok", False)
